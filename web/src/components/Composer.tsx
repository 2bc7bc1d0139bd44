// The reply box (free text inside the window), the closed-window banner with the template
// picker, the content library, and internal notes (never sent to the customer).
import { useEffect, useRef, useState } from "react";
import { inboxApi, type Content, type Conversation } from "../api/inbox";
import { isMissing, newKey } from "../api/http";
import { formatCountdown } from "../format";
import { errorText } from "./errors";
import { LibraryPicker } from "./LibraryPicker";
import { TemplatePicker } from "./TemplatePicker";

interface Props {
  conversation: Conversation;
  onSent: () => void;
  onTyping: () => void;
  noteRequest: number; // grows when the "add a note" quick action is used
}

type Mode = "reply" | "note";

export function Composer({ conversation, onSent, onTyping, noteRequest }: Props) {
  const [mode, setMode] = useState<Mode>("reply");
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [picking, setPicking] = useState<"template" | "library" | null>(null);
  const key = useRef<string | null>(null); // one key per draft: a double click sends once
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (noteRequest === 0) return;
    setMode("note");
    box.current?.focus();
  }, [noteRequest]);
  const closed = !conversation.window.open;
  const send = async (content: Content) => {
    key.current ??= newKey();
    await inboxApi.send(conversation.id, content, key.current);
    key.current = null;
    onSent();
  };
  const submit = async () => {
    const body = text.trim();
    if (!body || busy) return;
    setBusy(true);
    setError(null);
    try {
      if (mode === "note") await inboxApi.addNote(conversation.id, body);
      else await send({ kind: "text", body });
      setText("");
      if (mode === "note") onSent();
    } catch (caught) {
      setError(isMissing(caught) ? "Notes are not available on this server yet." : errorText(caught));
    } finally {
      setBusy(false);
    }
  };
  const replyBlocked = mode === "reply" && closed;
  return (
    <div className={`composer ${mode}`}>
      {picking === "library" && !closed && (
        <LibraryPicker conversationId={conversation.id} onSent={onSent} onClose={() => setPicking(null)} />
      )}
      {picking === "template" && (
        <TemplatePicker
          phoneNumberId={conversation.phone_number_id}
          onSend={async (content, templateKey) => {
            await inboxApi.send(conversation.id, content, templateKey);
            onSent();
          }}
          onClose={() => setPicking(null)}
        />
      )}
      {mode === "reply" && closed && (
        <div className="window-banner" role="status" data-testid="window-banner">
          {conversation.window.banner ?? "This conversation is closed. Use a template to re-engage."}
        </div>
      )}
      <div className="composer-tabs" role="tablist" aria-label="Write">
        <button type="button" role="tab" aria-selected={mode === "reply"} onClick={() => setMode("reply")}>
          Reply
        </button>
        <button type="button" role="tab" aria-selected={mode === "note"} onClick={() => setMode("note")}>
          Internal note
        </button>
        {mode === "reply" && !closed && (
          <span className="window-left muted" title="Time left to write freely (24-hour window)">
            {formatCountdown(conversation.window.seconds_left)} left
          </span>
        )}
      </div>
      <form
        className="composer-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <textarea
          ref={box}
          dir="auto"
          rows={2}
          value={text}
          disabled={replyBlocked}
          aria-label={mode === "note" ? "Internal note" : "Reply"}
          placeholder={
            mode === "note"
              ? "Note for the team (never sent to the customer)"
              : closed
                ? "Free text cannot be sent outside the 24-hour window"
                : "Write a reply — Enter to send, Shift+Enter for a new line"
          }
          onChange={(e) => {
            setText(e.target.value);
            key.current = null;
            if (mode === "reply") onTyping();
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void submit();
            }
          }}
        />
        <div className="composer-actions">
          {mode === "reply" && (
            <button
              type="button"
              className="secondary"
              disabled={closed}
              aria-expanded={picking === "library"}
              title="Send a stored image or document"
              onClick={() => setPicking((v) => (v === "library" ? null : "library"))}
            >
              Library
            </button>
          )}
          {mode === "reply" && (
            <button
              type="button"
              className={closed ? "" : "secondary"}
              aria-expanded={picking === "template"}
              onClick={() => setPicking((v) => (v === "template" ? null : "template"))}
            >
              Template
            </button>
          )}
          <button type="submit" disabled={busy || replyBlocked || !text.trim()}>
            {mode === "note" ? "Add note" : "Send"}
          </button>
        </div>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
