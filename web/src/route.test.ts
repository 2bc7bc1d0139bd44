import { describe, expect, it } from "vitest";
import { cardLink } from "./api/customers";
import { customerIdOf } from "./route";

describe("routes", () => {
  it("reads the customer id back from the card link", () => {
    expect(customerIdOf(cardLink("cus_1/ä"))).toBe("cus_1/ä");
  });

  it("is the inbox for any other path", () => {
    expect(customerIdOf("/")).toBeNull();
    expect(customerIdOf("/customers/")).toBeNull();
    expect(customerIdOf("/customers/a/orders")).toBeNull();
  });
});
