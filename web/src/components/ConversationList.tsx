// Left column: search, filters with counts, the number selector, and the conversations.
import type { KeyboardEvent } from "react";
import type { Channel, Conversation, Filter, FilterCounts } from "../api/inbox";
import { formatListTime, initials } from "../format";
import { useNow } from "../hooks";
import { activeOn, type Presence } from "./presence";

interface Props {
  conversations: Conversation[];
  counts: FilterCounts | null;
  channels: Channel[];
  filter: Filter;
  onFilter: (filter: Filter) => void;
  numberId: string;
  onNumber: (numberId: string) => void;
  search: string;
  onSearch: (search: string) => void;
  selectedId: string | null;
  onOpen: (id: string) => void;
  loading: boolean;
  error: string | null;
  presence: Presence[];
  me: string;
}

const FILTERS: { id: Filter; label: string }[] = [
  { id: "all", label: "All" },
  { id: "unread", label: "Unread" },
  { id: "mine", label: "Mine" },
  { id: "no_reply", label: "No reply" },
];

/** Arrow keys move between rows; Home and End jump to the ends. */
function moveFocus(event: KeyboardEvent<HTMLUListElement>) {
  const keys = ["ArrowDown", "ArrowUp", "Home", "End"];
  if (!keys.includes(event.key)) return;
  const rows = Array.from(event.currentTarget.querySelectorAll<HTMLButtonElement>("button.conv-row"));
  const index = rows.indexOf(document.activeElement as HTMLButtonElement);
  const next =
    event.key === "Home" ? 0 : event.key === "End" ? rows.length - 1 : index + (event.key === "ArrowDown" ? 1 : -1);
  const target = rows[Math.max(0, Math.min(rows.length - 1, next))];
  if (target) {
    event.preventDefault();
    target.focus();
  }
}

function label(channel: Channel): string {
  return channel.display_phone_number ? `+${channel.display_phone_number.replace(/^\+/, "")}` : channel.phone_number_id;
}

export function ConversationList(props: Props) {
  const now = useNow(2000);
  const { conversations, counts, channels } = props;
  return (
    <nav className="column list-column" aria-label="Conversations">
      <div className="list-tools">
        <input
          type="search"
          className="search"
          placeholder="Search name or number"
          aria-label="Search conversations by name or number"
          value={props.search}
          onChange={(e) => props.onSearch(e.target.value)}
        />
        {channels.length > 1 && (
          <select aria-label="Business number" value={props.numberId} onChange={(e) => props.onNumber(e.target.value)}>
            <option value="">All numbers</option>
            {channels.map((channel) => (
              <option key={channel.phone_number_id} value={channel.phone_number_id}>
                {label(channel)}
              </option>
            ))}
          </select>
        )}
        <div className="filters" role="tablist" aria-label="Filter">
          {FILTERS.map((f) => (
            <button
              key={f.id}
              type="button"
              role="tab"
              aria-selected={props.filter === f.id}
              className={props.filter === f.id ? "filter active" : "filter"}
              onClick={() => props.onFilter(f.id)}
            >
              {f.label}
              {counts && <span className="filter-count">{counts[f.id]}</span>}
            </button>
          ))}
        </div>
      </div>
      {props.error && (
        <p className="notice" role="status">
          {props.error}
        </p>
      )}
      {props.loading && <p className="muted pad">Loading…</p>}
      {!props.loading && !props.error && conversations.length === 0 && <p className="muted pad">No conversation here.</p>}
      <ul className="conv-list" onKeyDown={moveFocus} data-testid="conversation-list">
        {conversations.map((c) => {
          const others = activeOn(props.presence, c.id, props.me, now);
          const composing = others.find((p) => p.state === "composing");
          const preview = composing ? `${composing.agentName} is typing…` : c.last_message?.preview ?? "";
          const outbound = c.last_message?.direction === "outbound";
          return (
            <li key={c.id}>
              <button
                type="button"
                className={`conv-row${c.id === props.selectedId ? " selected" : ""}${c.unread_count ? " unread" : ""}`}
                aria-current={c.id === props.selectedId ? "true" : undefined}
                data-conversation-id={c.id}
                onClick={() => props.onOpen(c.id)}
              >
                <span className="avatar" aria-hidden="true">
                  {initials(c.display_name)}
                </span>
                <span className="conv-main">
                  <span className="conv-top">
                    <span className="conv-name" dir="auto">
                      {c.display_name}
                    </span>
                    <time className="conv-time" dateTime={c.last_activity_at ?? undefined}>
                      {formatListTime(c.last_activity_at, undefined, new Date(now))}
                    </time>
                  </span>
                  <span className="conv-bottom">
                    <span className={composing ? "conv-preview typing" : "conv-preview"} dir="auto">
                      {outbound && !composing && <span className="muted">You: </span>}
                      {preview}
                    </span>
                    {c.unread_count > 0 && (
                      <span className="badge" aria-label={`${c.unread_count} unread`} data-testid="unread-badge">
                        {c.unread_count}
                      </span>
                    )}
                  </span>
                  <span className="conv-meta">
                    {c.assignee && <span className="chip">→ {c.assignee.name}</span>}
                    {!c.window.open && <span className="chip closed">Closed</span>}
                    {c.awaiting_reply && <span className="chip waiting">Awaiting reply</span>}
                  </span>
                </span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
