// Attachments through ingest's media proxy: fetched with the bearer token, shown from a blob URL.
import { useEffect, useState } from "react";
import { authHeaders } from "../api/http";
import { mediaUrl } from "../api/ingest";
import type { Attachment } from "../api/inbox";

function useBlobUrl(url: string | null): { src: string | null; failed: boolean } {
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (!url) return;
    let objectUrl: string | null = null;
    let cancelled = false;
    fetch(url, { headers: authHeaders() })
      .then((response) => (response.ok ? response.blob() : Promise.reject(new Error(String(response.status)))))
      .then((blob) => {
        if (cancelled) return;
        objectUrl = URL.createObjectURL(blob);
        setSrc(objectUrl);
      })
      .catch(() => !cancelled && setFailed(true));
    return () => {
      cancelled = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [url]);
  return { src, failed };
}

export function Media({ attachment, phoneNumberId }: { attachment: Attachment; phoneNumberId: string }) {
  const url = attachment.link ?? (attachment.media_id ? mediaUrl(phoneNumberId, attachment.media_id) : null);
  const external = Boolean(attachment.link);
  const { src, failed } = useBlobUrl(external ? null : url);
  const shown = external ? url : src;
  const name = attachment.filename ?? attachment.kind;
  if (!url || failed) return <div className="media-missing">{name}: media unavailable</div>;
  if (!shown) return <div className="media-pending">{name}: loading…</div>;
  switch (attachment.kind) {
    case "image":
    case "sticker":
      return <img className="media-image" src={shown} alt={attachment.caption ?? name} />;
    case "video":
      return <video className="media-video" src={shown} controls preload="metadata" />;
    case "audio":
      return <audio src={shown} controls preload="metadata" aria-label={attachment.voice ? "Voice message" : "Audio"} />;
    default:
      return (
        <a className="media-document" href={shown} download={attachment.filename ?? undefined}>
          📄 {name}
        </a>
      );
  }
}
