// The content library in the composer: search a stored image or document by name, send it in one click.
import { useRef, useState } from "react";
import { inboxApi, type LibraryItem } from "../api/inbox";
import { isMissing, newKey } from "../api/http";
import { useDebounced, useLoad } from "../hooks";
import { errorText } from "./errors";

interface Props {
  conversationId: string;
  onSent: () => void;
  onClose: () => void;
}

const ICONS: Record<LibraryItem["kind"], string> = {
  image: "🖼",
  video: "🎬",
  audio: "🎵",
  document: "📄",
  sticker: "🏷",
};

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function LibraryPicker({ conversationId, onSent, onClose }: Props) {
  const [search, setSearch] = useState("");
  const [caption, setCaption] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const q = useDebounced(search.trim(), 250);
  const found = useLoad(() => inboxApi.library(q || undefined), [q], true);
  const keys = useRef(new Map<string, string>()); // one key per item: a double click sends once
  const send = async (item: LibraryItem) => {
    if (busy) return;
    setBusy(item.id);
    setError(null);
    const key = keys.current.get(item.id) ?? newKey();
    keys.current.set(item.id, key);
    try {
      await inboxApi.sendLibrary(conversationId, item.id, caption.trim() || undefined, key);
      keys.current.delete(item.id);
      onSent();
      onClose();
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(null);
    }
  };
  const items = found.data?.items ?? [];
  return (
    <div
      className="library-picker"
      data-testid="library-picker"
      role="region"
      aria-label="Content library"
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="row">
        <input
          type="search"
          dir="auto"
          className="grow"
          aria-label="Search the library by name"
          placeholder="Search the library by name"
          value={search}
          autoFocus
          onChange={(e) => setSearch(e.target.value)}
        />
        <button type="button" className="link-button" onClick={onClose} aria-label="Close the library">
          ✕
        </button>
      </div>
      <input
        dir="auto"
        aria-label="Caption (optional)"
        placeholder="Caption (optional)"
        value={caption}
        onChange={(e) => setCaption(e.target.value)}
      />
      {found.error ? (
        <p className="error">{isMissing(found.error) ? "The content library is not available on this server." : errorText(found.error)}</p>
      ) : null}
      {found.data && items.length === 0 && <p className="muted">{q ? `Nothing named “${q}”.` : "The library is empty."}</p>}
      <ul className="library-list">
        {items.map((item) => (
          <li key={item.id}>
            <button
              type="button"
              className="library-row"
              disabled={busy !== null}
              onClick={() => void send(item)}
              aria-label={`Send ${item.name}`}
            >
              <span aria-hidden="true">{ICONS[item.kind] ?? "📄"}</span>
              <span className="library-name" dir="auto">
                {item.name}
              </span>
              <span className="muted small-text">
                {item.kind} · {size(item.size)}
              </span>
              {busy === item.id && <span className="muted small-text">sending…</span>}
            </button>
          </li>
        ))}
      </ul>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
