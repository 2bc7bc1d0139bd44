// One internal note in the timeline, apart from the messages; its author can edit or delete it.
import { useState } from "react";
import { inboxApi, type TimelineItem } from "../api/inbox";
import { formatDateTime, formatTime } from "../format";
import { errorText } from "./errors";

interface Props {
  item: TimelineItem;
  conversationId: string;
  me: string;
  onChanged: () => void;
}

export function NoteItem({ item, conversationId, me, onChanged }: Props) {
  const author = item.author ?? item.by ?? item.sent_by;
  const text = item.body ?? item.text ?? item.summary ?? "";
  const mine = Boolean(me) && author?.id === me;
  const [draft, setDraft] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      setDraft(null);
      setConfirming(false);
      onChanged();
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };
  const save = () => {
    const body = draft?.trim() ?? "";
    if (!body || busy) return;
    if (body === text) return setDraft(null);
    void run(() => inboxApi.editNote(conversationId, item.id, body));
  };
  return (
    <li className="note" data-testid="note" data-note-id={item.id} aria-label="Internal note">
      <div className="note-head">
        🔒 Internal note{author ? ` · ${author.name}` : ""} · <time dateTime={item.at}>{formatTime(item.at)}</time>
        {item.edited_at && (
          <span className="muted" title={`Edited ${formatDateTime(item.edited_at)}`} data-testid="note-edited">
            {" "}
            · edited
          </span>
        )}
        {mine && draft === null && !confirming && (
          <span className="note-actions">
            <button type="button" className="link-button" onClick={() => setDraft(text)} aria-label="Edit the note">
              Edit
            </button>
            <button type="button" className="link-button danger" onClick={() => setConfirming(true)} aria-label="Delete the note">
              Delete
            </button>
          </span>
        )}
      </div>
      {draft === null ? (
        <p className="text" dir="auto">
          {text}
        </p>
      ) : (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
        >
          <textarea
            dir="auto"
            rows={2}
            autoFocus
            aria-label="Edit the internal note"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Escape") {
                e.preventDefault();
                setDraft(null);
              } else if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
                e.preventDefault();
                save();
              }
            }}
          />
          <div className="row">
            <button type="submit" className="small" disabled={busy || !draft.trim()}>
              Save note
            </button>
            <button type="button" className="small secondary" onClick={() => setDraft(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {confirming && (
        <div className="row" role="alertdialog" aria-label="Delete this note?">
          <span>Delete this note for the whole team?</span>
          <button type="button" className="small danger" autoFocus disabled={busy} onClick={() => void run(() => inboxApi.deleteNote(conversationId, item.id))}>
            Yes, delete
          </button>
          <button type="button" className="small secondary" onClick={() => setConfirming(false)}>
            Keep it
          </button>
        </div>
      )}
      {error && (
        <p className="error small-text" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
