// Centre column: the conversation's header and quick actions, its history, and the composer.
import { useEffect, useRef, useState } from "react";
import { inboxApi, type Conversation, type Person, type PresenceState, type TimelineItem } from "../api/inbox";
import { isMissing } from "../api/http";
import { useLoad, useNow } from "../hooks";
import type { Session } from "../session";
import { Composer } from "./Composer";
import { errorText } from "./errors";
import { activeOn, presenceOf, type Presence } from "./presence";
import { Timeline } from "./Timeline";

export type QuickAction = "create-order" | "current-order" | "card";

interface Props {
  conversationId: string | null;
  conversation: Conversation | null;
  version: number;
  session: Session;
  agents: Person[];
  presence: Presence[];
  onBack: () => void;
  onShowCustomer: () => void;
  onChanged: () => void;
  onAction: (action: QuickAction) => void;
}

const HEARTBEAT_MS = 4000;

const COMPOSING_MS = 6000;

/**
 * Tells colleagues this agent is viewing (composing while typing, for a few seconds after each
 * key) with a heartbeat, and asks who else is here at each beat (the live stream may lag).
 * Stops calling when the inbox has no presence routes.
 */
function usePresence(conversationId: string | null) {
  const supported = useRef(true);
  const lastKey = useRef(0);
  const lastSent = useRef<{ state: PresenceState; at: number }>({ state: "left", at: 0 });
  const [here, setHere] = useState<Presence[]>([]);
  const send = (id: string, state: PresenceState) => {
    lastSent.current = { state, at: Date.now() };
    inboxApi.presence(id, state).catch((error: unknown) => {
      if (isMissing(error)) supported.current = false;
    });
  };
  useEffect(() => {
    if (!conversationId) return;
    const beat = () => {
      if (!supported.current || document.hidden) return;
      send(conversationId, Date.now() - lastKey.current < COMPOSING_MS ? "composing" : "viewing");
      inboxApi.whoIsHere(conversationId).then(
        (found) => setHere(found.map((data) => presenceOf({ id: null, type: "presence", data })).filter((p): p is Presence => p !== null)),
        () => undefined,
      );
    };
    beat();
    const timer = window.setInterval(beat, HEARTBEAT_MS);
    return () => {
      window.clearInterval(timer);
      if (supported.current) inboxApi.presence(conversationId, "left").catch(() => undefined);
    };
  }, [conversationId]);
  const typing = () => {
    lastKey.current = Date.now();
    const { state, at } = lastSent.current;
    if (conversationId && supported.current && (state !== "composing" || Date.now() - at > HEARTBEAT_MS)) {
      send(conversationId, "composing");
    }
  };
  return { typing, here };
}

function Assignment({ conversation, session, agents, onChanged }: { conversation: Conversation; session: Session; agents: Person[]; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const me = { id: session.agentId, name: session.name };
  const options = agents.some((a) => a.id === me.id) || !me.id ? agents : [me, ...agents];
  const assign = async (agentId: string) => {
    setError(null);
    try {
      await inboxApi.assign(conversation.id, options.find((a) => a.id === agentId) ?? null);
      onChanged();
    } catch (caught) {
      setError(isMissing(caught) ? "Assignment is not available on this server yet." : errorText(caught));
    }
  };
  return (
    <label className="assign">
      <span className="muted">Assigned to</span>
      <select value={conversation.assignee?.id ?? ""} onChange={(e) => void assign(e.target.value)} aria-label="Assign the conversation">
        <option value="">Nobody (free)</option>
        {options.map((agent) => (
          <option key={agent.id} value={agent.id}>
            {agent.id === me.id ? `Me (${agent.name})` : agent.name}
          </option>
        ))}
      </select>
      {error && <span className="error small-text">{error}</span>}
    </label>
  );
}

export function ConversationView(props: Props) {
  const { conversationId, conversation, session } = props;
  const now = useNow(2000);
  const timeline = useLoad(conversationId ? () => inboxApi.timeline(conversationId) : null, [conversationId]);
  const [noteRequest, setNoteRequest] = useState(0);
  const [retryError, setRetryError] = useState<string | null>(null);
  const { typing: onTyping, here } = usePresence(conversationId);
  const bottom = useRef<HTMLDivElement>(null);
  const items = timeline.data?.items ?? [];
  const lastId = items[items.length - 1]?.id;
  useEffect(() => {
    if (conversationId) timeline.reload();
  }, [props.version]);
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [lastId]);
  useEffect(() => {
    // Looking at it is reading it: the badge clears for the whole team.
    if (conversation && conversation.unread_count > 0 && !document.hidden) {
      inboxApi.markRead(conversation.id).then(props.onChanged, () => undefined);
    }
  }, [conversation?.id, conversation?.unread_count]);
  if (!conversationId) {
    return (
      <main className="column conversation-column empty">
        <p className="muted">Choose a conversation.</p>
      </main>
    );
  }
  const retry = async (item: TimelineItem) => {
    setRetryError(null);
    try {
      await inboxApi.retry(conversationId, item.id);
      timeline.reload();
    } catch (caught) {
      setRetryError(errorText(caught));
    }
  };
  const latest = new Map<string, Presence>();
  for (const p of [...props.presence, ...here]) {
    const seen = latest.get(p.key);
    if (!seen || p.until > seen.until) latest.set(p.key, p);
  }
  const others = activeOn([...latest.values()], conversationId, session.agentId, now);
  const composing = others.filter((p) => p.state === "composing");
  const viewing = others.filter((p) => p.state === "viewing");
  return (
    <main className="column conversation-column" aria-label="Conversation">
      <header className="conv-header">
        <button type="button" className="back-button" onClick={props.onBack} aria-label="Back to the list">
          ←
        </button>
        <div className="conv-title">
          <h2 dir="auto" data-testid="conversation-title">
            {conversation?.display_name ?? "…"}
          </h2>
          <div className="muted small-text" dir="ltr">
            {conversation?.phone_e164 ?? (conversation?.contact.wa_id ? `+${conversation.contact.wa_id}` : "")}
            {conversation?.display_phone_number ? ` → +${conversation.display_phone_number.replace(/^\+/, "")}` : ""}
          </div>
        </div>
        {conversation && <Assignment conversation={conversation} session={session} agents={props.agents} onChanged={props.onChanged} />}
      </header>
      <div className="quick-actions" role="toolbar" aria-label="Quick actions">
        <button type="button" className="small" onClick={() => props.onAction("create-order")}>
          Create order
        </button>
        <button type="button" className="small secondary" onClick={() => props.onAction("current-order")}>
          Current order
        </button>
        <button type="button" className="small secondary" onClick={() => setNoteRequest((n) => n + 1)}>
          Add note
        </button>
        <button type="button" className="small secondary" onClick={() => props.onAction("card")}>
          Customer card
        </button>
        <button type="button" className="small secondary show-customer" onClick={props.onShowCustomer}>
          Customer panel
        </button>
      </div>
      <div className="timeline-scroll">
        {timeline.error ? <p className="error pad">{errorText(timeline.error)}</p> : null}
        <Timeline
          items={items}
          phoneNumberId={conversation?.phone_number_id ?? ""}
          conversationId={conversationId}
          me={session.agentId}
          onRetry={(item) => void retry(item)}
          onNoteChanged={() => {
            timeline.reload();
            props.onChanged();
          }}
        />
        <div ref={bottom} />
      </div>
      <div className="presence" aria-live="polite" data-testid="presence">
        {composing.length > 0 && <span>{composing.map((p) => p.agentName).join(", ")} is composing a reply…</span>}
        {composing.length === 0 && viewing.length > 0 && (
          <span className="muted">Also viewing: {viewing.map((p) => p.agentName).join(", ")}</span>
        )}
      </div>
      {retryError && <p className="error pad">{retryError}</p>}
      {conversation && (
        <Composer
          conversation={conversation}
          noteRequest={noteRequest}
          onTyping={onTyping}
          onSent={() => {
            timeline.reload();
            props.onChanged();
          }}
        />
      )}
    </main>
  );
}
