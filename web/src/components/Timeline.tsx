// The conversation's history: messages with attachments and ticks, notes apart, activity lines.
import type { TimelineItem } from "../api/inbox";
import { formatDate, formatTime } from "../format";
import { Media } from "./Media";
import { NoteItem } from "./NoteItem";
import { StageBadge } from "./StageBadge";

const TICKS: Record<string, { symbol: string; label: string }> = {
  pending: { symbol: "🕓", label: "Sending" },
  accepted: { symbol: "✓", label: "Accepted by WhatsApp" },
  sent: { symbol: "✓", label: "Sent" },
  delivered: { symbol: "✓✓", label: "Delivered" },
  read: { symbol: "✓✓", label: "Read" },
  played: { symbol: "✓✓", label: "Played" },
  failed: { symbol: "!", label: "Not delivered" },
};

interface Props {
  items: TimelineItem[];
  phoneNumberId: string;
  conversationId: string;
  me: string;
  onRetry: (item: TimelineItem) => void;
  onNoteChanged: () => void;
}

function Ticks({ item, onRetry }: { item: TimelineItem; onRetry: (item: TimelineItem) => void }) {
  const status = item.status ?? "pending";
  const tick = TICKS[status] ?? { symbol: "?", label: status };
  if (status !== "failed") {
    return (
      <span className={`ticks ticks-${status}`} data-status={status} title={tick.label} aria-label={tick.label}>
        {tick.symbol}
      </span>
    );
  }
  const error = item.error;
  const reason = error ? [error.code, error.title ?? error.message].filter(Boolean).join(" · ") : "";
  return (
    <span className="failed" data-status="failed">
      <span className="ticks ticks-failed" aria-hidden="true">
        !
      </span>
      Not delivered{reason ? `: ${reason}` : ""}
      <button type="button" className="small" onClick={() => onRetry(item)}>
        Retry
      </button>
    </span>
  );
}

function Body({ item, phoneNumberId }: { item: TimelineItem; phoneNumberId: string }) {
  const captions = (item.attachments ?? []).map((a) => a.caption).filter(Boolean).join("\n");
  const text = item.text ?? (item.attachments?.length ? captions || null : item.summary);
  return (
    <>
      {item.attachments?.map((attachment, index) => (
        <Media key={index} attachment={attachment} phoneNumberId={phoneNumberId} />
      ))}
      {item.location && (
        <a
          className="location"
          href={`https://www.openstreetmap.org/?mlat=${item.location.latitude}&mlon=${item.location.longitude}#map=17/${item.location.latitude}/${item.location.longitude}`}
          target="_blank"
          rel="noreferrer"
        >
          📍 {item.location.name ?? item.location.address ?? `${item.location.latitude}, ${item.location.longitude}`}
        </a>
      )}
      {item.contacts?.map((contact, index) => (
        <div key={index} className="shared-contact">
          👤 {contact.formatted_name ?? "Contact"} {contact.phones?.map((p) => p.phone).filter(Boolean).join(", ")}
        </div>
      ))}
      {text && (
        <p className="text" dir="auto">
          {item.revoked ? <em>This message was deleted</em> : text}
        </p>
      )}
    </>
  );
}

function Message({ item, phoneNumberId, onRetry }: { item: TimelineItem; phoneNumberId: string; onRetry: Props["onRetry"] }) {
  const outbound = item.direction === "outbound";
  return (
    <li className={`message ${outbound ? "outbound" : "inbound"}`} data-message-id={item.id} data-testid="message">
      <div className="bubble">
        {item.type === "template" && <span className="chip">Template</span>}
        <Body item={item} phoneNumberId={phoneNumberId} />
        {item.reactions && item.reactions.length > 0 && (
          <span className="reactions">{item.reactions.map((r) => r.emoji).join(" ")}</span>
        )}
        <span className="meta">
          {outbound && item.sent_by && <span className="sender">{item.sent_by.name}</span>}
          <time dateTime={item.at}>{formatTime(item.at)}</time>
          {outbound && <Ticks item={item} onRetry={onRetry} />}
        </span>
      </div>
    </li>
  );
}

function Activity({ item }: { item: TimelineItem }) {
  const who = item.by ?? item.author ?? item.sent_by;
  return (
    <li className="activity" data-testid="activity">
      <span dir="auto">
        {who ? `${who.name}: ` : ""}
        {item.summary ?? item.text ?? item.kind}
      </span>{" "}
      {item.stage && <StageBadge stage={item.stage} />}{" "}
      <time dateTime={item.at}>{formatTime(item.at)}</time>
    </li>
  );
}

export function Timeline({ items, phoneNumberId, conversationId, me, onRetry, onNoteChanged }: Props) {
  let lastDay = "";
  return (
    <ol className="timeline" aria-label="Messages" data-testid="timeline">
      {items.flatMap((item) => {
        const day = formatDate(item.at);
        const separator =
          day !== lastDay ? [<li key={`day-${day}`} className="day-separator">{day}</li>] : [];
        lastDay = day;
        const row =
          item.kind === "message" ? (
            <Message key={item.id} item={item} phoneNumberId={phoneNumberId} onRetry={onRetry} />
          ) : item.kind === "note" ? (
            <NoteItem key={item.id} item={item} conversationId={conversationId} me={me} onChanged={onNoteChanged} />
          ) : (
            <Activity key={item.id} item={item} />
          );
        return [...separator, row];
      })}
    </ol>
  );
}
