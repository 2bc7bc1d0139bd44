import { describe, expect, it } from "vitest";
import { centsToString, formatListTime, formatMad, sumCents, toCents } from "./format";

describe("amounts", () => {
  it("sums decimal strings exactly, without floating point drift", () => {
    expect(centsToString(sumCents(["0.10", "0.20", "199.99", "5"]))).toBe("205.29");
  });

  it("reads one decimal as tenths", () => {
    expect(toCents("12.5")).toBe(1250);
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
