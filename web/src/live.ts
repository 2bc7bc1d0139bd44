// Live updates: the inbox's Server-Sent Events stream read through fetch (so the bearer token
// goes in a header), resumed with the last event id; polling when the stream does not exist.
import { apiUrl, authHeaders } from "./api/http";
import { inboxApi } from "./api/inbox";

export interface LiveEvent {
  id: string | null;
  type: string;
  data: unknown;
}

export interface SseParser {
  push(chunk: string): LiveEvent[];
}

/** Splits a text/event-stream into events (the WHATWG rules that matter here). */
export function sseParser(): SseParser {
  let buffer = "";
  let data: string[] = [];
  let type = "message";
  let id: string | null = null;
  const dispatch = (): LiveEvent | null => {
    if (data.length === 0) return null;
    const text = data.join("\n");
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Plain text data stays a string.
    }
    const event = { id, type, data: parsed };
    data = [];
    type = "message";
    return event;
  };
  return {
    push(chunk) {
      buffer += chunk;
      const events: LiveEvent[] = [];
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "") {
          const event = dispatch();
          if (event) events.push(event);
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(value);
        else if (field === "event") type = value;
        else if (field === "id") id = value;
      }
      return events;
    },
  };
}

export type LiveMode = "stream" | "polling";

export interface LiveOptions {
  onEvent: (event: LiveEvent) => void;
  onTick: () => void; // called every poll interval when there is no stream
  onMode: (mode: LiveMode) => void;
  pollMs?: number;
}

/** Connects and keeps reconnecting until the returned function is called. */
export function connectLive(options: LiveOptions): () => void {
  const controller = new AbortController();
  let lastEventId: string | null = null;
  let timer: number | undefined;
  const poll = () => {
    options.onMode("polling");
    timer = window.setInterval(options.onTick, options.pollMs ?? 2500);
  };
  const run = async () => {
    let failures = 0;
    while (!controller.signal.aborted) {
      try {
        const headers: Record<string, string> = { Accept: "text/event-stream", ...authHeaders() };
        if (lastEventId) headers["Last-Event-ID"] = lastEventId;
        const response = await fetch(apiUrl("inbox", inboxApi.streamPath), { headers, signal: controller.signal });
        const type = response.headers.get("content-type") ?? "";
        if (!response.ok || !type.includes("text/event-stream") || !response.body) {
          poll();
          return;
        }
        options.onMode("stream");
        failures = 0;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = sseParser();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) {
            if (event.id) lastEventId = event.id;
            options.onEvent(event);
          }
        }
      } catch {
        if (controller.signal.aborted) return;
      }
      failures += 1;
      options.onTick(); // catch up on whatever a gap hid
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000 * 2 ** failures, 15000)));
    }
  };
  void run();
  return () => {
    controller.abort();
    if (timer !== undefined) window.clearInterval(timer);
  };
}
