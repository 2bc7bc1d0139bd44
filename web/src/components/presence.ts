// Who is viewing or composing which conversation, read from the live stream's presence events.
import type { LiveEvent } from "../live";

export interface Presence {
  key: string;
  conversationId: string;
  agentId: string;
  agentName: string;
  state: "viewing" | "composing" | "left";
  until: number; // the indicator fades on its own after this time (ms since epoch)
}

const DEFAULT_TTL_MS = 8000;

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
}

function text(...values: unknown[]): string {
  const found = values.find((value) => typeof value === "string" && value);
  return typeof found === "string" ? found : "";
}

/** Accepts the CloudEvent itself or its data, as the stream sends one or the other. */
export function presenceOf(event: LiveEvent): Presence | null {
  const envelope = record(event.data);
  const type = text(envelope.type, event.type);
  if (!type.includes("presence")) return null;
  const data = record(envelope.data ?? envelope);
  const agent = record(data.agent);
  const conversationId = text(data.conversation_id, envelope.subject);
  const agentId = text(data.agent_id, agent.id, envelope.actorid);
  if (!conversationId || !agentId) return null;
  const state = text(data.state, data.status);
  const expires = Date.parse(text(data.expires_at));
  return {
    key: `${conversationId}:${agentId}`,
    conversationId,
    agentId,
    agentName: text(data.agent_name, agent.name, envelope.actorname, agentId),
    state: state === "composing" || state === "viewing" ? state : "left",
    until: Number.isNaN(expires) ? Date.now() + DEFAULT_TTL_MS : expires,
  };
}

export function activeOn(presence: Presence[], conversationId: string, me: string, now: number): Presence[] {
  return presence.filter(
    (p) => p.conversationId === conversationId && p.agentId !== me && p.state !== "left" && p.until > now,
  );
}
