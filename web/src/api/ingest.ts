// The ingest service (services/ingest/README.md): only the media download proxy is the client's.
import { apiUrl } from "./http";

export function mediaUrl(phoneNumberId: string, mediaId: string): string {
  return apiUrl("ingest", `/channels/${encodeURIComponent(phoneNumberId)}/media/${encodeURIComponent(mediaId)}`);
}
