// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Conversation, TemplateView } from "../api/inbox";
import { Composer } from "./Composer";

const template: TemplateView = {
  name: "order_update",
  language: "fr",
  category: "UTILITY",
  body: "Bonjour {{1}}, votre commande est prête.",
  slots: [{ component: "body", index: null, names: ["1"], kinds: ["text"], sub_type: null }],
} as TemplateView;

const closed = {
  id: "conv-1",
  conversation_key: "ws:100:212611223344",
  phone_number_id: "100",
  contact: { wa_id: "212611223344" },
  display_name: "Amina",
  last_activity_at: null,
  unread_count: 0,
  awaiting_reply: false,
  window: { open: false, expires_at: null, seconds_left: 0, banner: null },
} as unknown as Conversation;

type Outcome = "network-error" | "sent";
let outcomes: Outcome[] = [];
let sentKeys: string[] = [];

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

async function fakeFetch(url: string, init?: RequestInit): Promise<Response> {
  if (String(url).includes("/templates")) return json({ templates: [template], synced_at: null });
  const headers = (init?.headers ?? {}) as Record<string, string>;
  sentKeys.push(headers["Idempotency-Key"]);
  if (outcomes.shift() === "network-error") throw new TypeError("Failed to fetch");
  return json({ id: "msg-1" }, 201);
}

async function pickTemplate(name = "Karim") {
  fireEvent.click(screen.getByRole("button", { name: "Template" }));
  fireEvent.click(await screen.findByRole("button", { name: /order_update/ }));
  fireEvent.change(screen.getByLabelText(/\{\{1\}\}/), { target: { value: name } });
}

async function clickSend(expectedCalls: number) {
  fireEvent.click(screen.getByRole("button", { name: "Send template" }));
  await waitFor(() => expect(sentKeys).toHaveLength(expectedCalls));
  await waitFor(() => expect(screen.queryByRole("button", { name: "Send template" })?.hasAttribute("disabled") ?? false).toBe(false));
}

describe("the template picker's idempotency key", () => {
  beforeEach(() => {
    outcomes = [];
    sentKeys = [];
    vi.stubGlobal("fetch", vi.fn(fakeFetch));
    render(<Composer conversation={closed} onSent={() => {}} onTyping={() => {}} noteRequest={0} />);
  });
  afterEach(() => {
    cleanup();
    vi.unstubAllGlobals();
  });

  it("is the same on a retry after a network error, until the send goes through", async () => {
    outcomes = ["network-error", "network-error", "sent"];
    await pickTemplate();
    await clickSend(1);
    await clickSend(2);
    await clickSend(3);
    expect(new Set(sentKeys).size).toBe(1);
    expect(sentKeys[0]).toBeTruthy();
  });

  it("is new once the agent changes what is sent", async () => {
    outcomes = ["network-error", "sent"];
    await pickTemplate("Karim");
    await clickSend(1);
    fireEvent.change(screen.getByLabelText(/\{\{1\}\}/), { target: { value: "Karima" } });
    await clickSend(2);
    expect(sentKeys[1]).not.toBe(sentKeys[0]);
  });

  it("is new for the next send once one went through", async () => {
    outcomes = ["sent", "sent"];
    await pickTemplate();
    await clickSend(1);
    await waitFor(() => expect(screen.queryByTestId("template-picker")).toBeNull());
    await pickTemplate();
    await clickSend(2);
    expect(sentKeys[1]).not.toBe(sentKeys[0]);
  });
});
