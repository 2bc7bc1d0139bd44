import { describe, expect, it } from "vitest";
import { centsToString, formatListTime, formatMad, lineCents, orderCents, sumCents, toCents } from "./format";

describe("amounts", () => {
  it("sums decimal strings exactly, without floating point drift", () => {
    expect(centsToString(sumCents(["0.10", "0.20", "199.99", "5"]))).toBe("205.29");
  });

  it("reads one decimal as tenths", () => {
    expect(toCents("12.5")).toBe(1250);
  });

  it("computes a line in integer centimes: 3 × 19.99 is 59.97, not 59.97000000000001", () => {
    expect(lineCents("19.99", 3)).toBe(5997);
    expect(centsToString(lineCents("0.1", 3))).toBe("0.30");
  });

  it("totals an order's lines and shipping fee exactly", () => {
    const lines = [
      { unit_price: "19.99", quantity: 3 },
      { unit_price: "0.10", quantity: 7 },
      { unit_price: "450", quantity: 2 },
    ];
    expect(centsToString(orderCents(lines, "29.90"))).toBe("990.57");
  });

  it("counts whole quantities only", () => {
    expect(lineCents("10.00", 2.7)).toBe(2000);
  });

  it("shows amounts in Moroccan dirhams", () => {
    expect(formatMad("1250.50")).toMatch(/1.?250,50/);
    expect(formatMad("1250.50")).toMatch(/MAD|DH|د\.م/);
  });
});

describe("times in the shop's time zone", () => {
  const now = new Date("2026-06-10T12:00:00Z");

  it("shows the hour for a message of today in Casablanca", () => {
    expect(formatListTime("2026-06-10T08:05:00Z", "Africa/Casablanca", now)).toMatch(/0?9:05/);
  });

  it("shows the date for an older message", () => {
    expect(formatListTime("2026-06-01T08:05:00Z", "Africa/Casablanca", now)).toMatch(/01/);
  });

  it("uses the zone given, not the browser's", () => {
    expect(formatListTime("2026-06-10T23:30:00Z", "Africa/Casablanca", now)).not.toBe(
      formatListTime("2026-06-10T23:30:00Z", "UTC", now),
    );
  });
});
