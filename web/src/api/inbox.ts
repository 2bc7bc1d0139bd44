// The inbox service: conversations, timeline, sending, templates (issue 6); notes, assignment,
// presence and the live stream (issue 7) are called where they exist and hidden where they do not.
import { apiUrl, call, newKey } from "./http";

export type Filter = "all" | "unread" | "mine" | "no_reply";

export interface Person {
  id: string;
  name: string;
}

export interface ContactIdentity {
  wa_id?: string | null;
  user_id?: string | null;
  username?: string | null;
  profile_name?: string | null;
}

export interface CustomerLink {
  outcome: "known" | "unknown" | "duplicates";
  customer_id?: string | null;
  candidate_ids: string[];
  name?: string | null;
}

export interface Window {
  open: boolean;
  expires_at: string | null;
  seconds_left: number;
  banner: string | null;
}

export interface Conversation {
  id: string;
  conversation_key: string;
  phone_number_id: string;
  display_phone_number?: string | null;
  contact: ContactIdentity;
  phone_e164?: string | null;
  customer?: CustomerLink | null;
  last_message?: { direction: "inbound" | "outbound"; type: string; preview: string; at: string } | null;
  last_activity_at: string | null;
  unread_count: number;
  awaiting_reply: boolean;
  assignee?: Person | null;
  display_name: string;
  window: Window;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface FilterCounts {
  all: number;
  unread: number;
  mine: number;
  no_reply: number;
}

export interface Attachment {
  kind: string;
  media_id?: string | null;
  link?: string | null;
  mime_type?: string | null;
  filename?: string | null;
  caption?: string | null;
  voice?: boolean | null;
}

export interface MetaError {
  code?: number | null;
  title?: string | null;
  message?: string | null;
  details?: string | null;
}

export interface TimelineItem {
  kind: string; // "message"; issue 7 adds notes and activity entries with their own kinds
  id: string;
  conversation_id: string;
  direction?: "inbound" | "outbound";
  type?: string;
  at: string;
  summary?: string;
  text?: string | null;
  body?: string | null;
  attachments?: Attachment[];
  location?: { latitude: number; longitude: number; name?: string | null; address?: string | null } | null;
  contacts?: { formatted_name?: string | null; phones?: { phone?: string | null }[] }[];
  reactions?: { emoji: string }[];
  status?: string | null;
  error?: MetaError | null;
  retryable?: boolean | null;
  sent_by?: Person | null;
  author?: Person | null;
  by?: Person | null;
  revoked?: boolean;
  edited_at?: string | null; // notes
  action?: string; // activity entries: assigned, order_created, order_stage_changed, …
  stage?: { id: string; name: string; color: string; state: string } | null;
}

export interface Channel {
  phone_number_id: string;
  display_phone_number?: string | null;
}

export interface TemplateSlot {
  component: string;
  sub_type?: string | null;
  index?: number | null;
  names: string[];
  kinds: string[];
}

export interface TemplateView {
  name: string;
  language: string;
  category?: string | null;
  parameter_format?: string | null;
  header_format?: string | null;
  body?: string | null;
  slots: TemplateSlot[];
}

export interface TemplateParameter {
  type: string;
  text?: string;
  parameter_name?: string;
  link?: string;
}

export interface TemplateComponent {
  type: string;
  sub_type?: string;
  index?: number;
  parameters: TemplateParameter[];
}

export type Content =
  | { kind: "text"; body: string }
  | { kind: "template"; name: string; language: string; components: TemplateComponent[] };

export interface LibraryItem {
  id: string;
  name: string;
  kind: "image" | "video" | "audio" | "document" | "sticker";
  mime_type: string;
  filename: string;
  size: number;
  added_by: Person;
  added_at: string;
}

export type PresenceState = "viewing" | "composing" | "left";

const conv = (id: string) => `/conversations/${encodeURIComponent(id)}`;

export const inboxApi = {
  list: (query: { filter: Filter; phone_number_id?: string; q?: string; cursor?: string; limit?: number }) =>
    call<Page<Conversation>>("inbox", "/conversations", { query: { limit: 50, ...query } }),
  counts: (query: { phone_number_id?: string; q?: string }) =>
    call<FilterCounts>("inbox", "/conversations/counts", { query }),
  get: (id: string) => call<Conversation>("inbox", conv(id)),
  timeline: (id: string, cursor?: string) =>
    call<Page<TimelineItem>>("inbox", `${conv(id)}/messages`, { query: { cursor, limit: 100 } }),
  markRead: (id: string) => call<Conversation>("inbox", `${conv(id)}/read`, { method: "POST" }),
  send: (id: string, content: Content, key: string = newKey()) =>
    call<TimelineItem>("inbox", `${conv(id)}/messages`, { body: { content }, headers: { "Idempotency-Key": key } }),
  retry: (id: string, messageId: string) =>
    call<TimelineItem>("inbox", `${conv(id)}/messages/${encodeURIComponent(messageId)}/retry`, { method: "POST" }),
  channels: () => call<Channel[]>("inbox", "/channels"),
  templates: (phoneNumberId: string) =>
    call<{ templates: TemplateView[]; synced_at: string | null }>(
      "inbox",
      `/channels/${encodeURIComponent(phoneNumberId)}/templates`,
    ),
  // Issue 7 (team work); each answers 404 "Not Found" until the inbox has it.
  addNote: (id: string, body: string) => call<TimelineItem>("inbox", `${conv(id)}/notes`, { body: { body } }),
  editNote: (id: string, noteId: string, body: string) =>
    call<TimelineItem>("inbox", `${conv(id)}/notes/${encodeURIComponent(noteId)}`, { method: "PATCH", body: { body } }),
  deleteNote: (id: string, noteId: string) =>
    call<void>("inbox", `${conv(id)}/notes/${encodeURIComponent(noteId)}`, { method: "DELETE" }),
  // The content library: search by name, send an item in one call (uploaded to Meta once per number).
  library: (q?: string) => call<Page<LibraryItem>>("inbox", "/library", { query: { q, limit: 30 } }),
  libraryFile: (itemId: string) => apiUrl("inbox", `/library/${encodeURIComponent(itemId)}/file`),
  sendLibrary: (id: string, itemId: string, caption: string | undefined, key: string = newKey()) =>
    call<TimelineItem>("inbox", `${conv(id)}/messages/library`, {
      body: { item_id: itemId, ...(caption ? { caption } : {}) },
      headers: { "Idempotency-Key": key },
    }),
  assign: (id: string, agent: Person | null) =>
    call<Conversation>("inbox", `${conv(id)}/assignee`, {
      method: "PUT",
      body: { agent_id: agent?.id ?? null, agent_name: agent?.name ?? null },
    }),
  presence: (id: string, state: PresenceState) =>
    call<unknown>("inbox", `${conv(id)}/presence`, { body: { state } }),
  whoIsHere: (id: string) => call<unknown[]>("inbox", `${conv(id)}/presence`),
  agents: () => call<Person[]>("inbox", "/agents"),
  streamPath: "/stream",
};
