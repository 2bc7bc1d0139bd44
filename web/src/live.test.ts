import { describe, expect, it } from "vitest";
import { sseParser } from "./live";

describe("the event-stream parser", () => {
  it("reads events split across chunks, with their id and type", () => {
    const parser = sseParser();
    expect(parser.push('id: 7\nevent: inbox.message.sent\ndata: {"a"')).toEqual([]);
    const events = parser.push(": 1}\n\n");
    expect(events).toEqual([{ id: "7", type: "inbox.message.sent", data: { a: 1 } }]);
  });

  it("ignores comments used as keep-alives", () => {
    const parser = sseParser();
    expect(parser.push(": ping\n\n")).toEqual([]);
  });

  it("keeps the last id for events that do not repeat it", () => {
    const parser = sseParser();
    parser.push("id: 3\ndata: x\n\n");
    expect(parser.push("data: y\n\n")).toEqual([{ id: "3", type: "message", data: "y" }]);
  });
});
