// Approved templates of the conversation's number, with an input per parameter and a preview.
import { useMemo, useRef, useState } from "react";
import { newKey } from "../api/http";
import { inboxApi, type Content, type TemplateComponent, type TemplateSlot, type TemplateView } from "../api/inbox";
import { useLoad } from "../hooks";
import { errorText } from "./errors";

interface Props {
  phoneNumberId: string;
  /** `key` is the send's Idempotency-Key: the same on a retry of the same send. */
  onSend: (content: Content, key: string) => Promise<void>;
  onClose: () => void;
}

const slotKey = (slot: TemplateSlot, name: string) => `${slot.component}:${slot.index ?? ""}:${name}`;

function components(template: TemplateView, values: Record<string, string>): TemplateComponent[] {
  const named = (template.parameter_format ?? "").toUpperCase() === "NAMED";
  return template.slots.map((slot) => {
    const parameters = slot.names.map((name) => {
      const value = values[slotKey(slot, name)] ?? "";
      const kind = slot.kinds.includes("text") ? "text" : slot.kinds[0];
      if (["image", "video", "document"].includes(kind)) return { type: kind, link: value };
      return { type: kind, text: value, ...(named && slot.component !== "button" ? { parameter_name: name } : {}) };
    });
    return slot.component === "button"
      ? { type: "button", sub_type: slot.sub_type ?? undefined, index: slot.index ?? undefined, parameters }
      : { type: slot.component, parameters };
  });
}

function preview(template: TemplateView, values: Record<string, string>): string {
  const body = template.slots.find((s) => s.component === "body");
  return (template.body ?? "").replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (whole, name: string) => {
    const value = body ? values[slotKey(body, name)] : "";
    return value || whole;
  });
}

export function TemplatePicker({ phoneNumberId, onSend, onClose }: Props) {
  const loaded = useLoad(() => inboxApi.templates(phoneNumberId), [phoneNumberId]);
  const [chosen, setChosen] = useState<TemplateView | null>(null);
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per intended send: a retry after a network error may find the first try delivered,
  // and the inbox then answers it instead of sending twice. A new key once the agent changes
  // what is sent, or once it went through.
  const key = useRef<string | null>(null);
  const choose = (template: TemplateView | null) => {
    key.current = null;
    setChosen(template);
    setValues({});
  };
  const templates = loaded.data?.templates ?? [];
  const missing = useMemo(
    () => (chosen ? chosen.slots.flatMap((s) => s.names.map((n) => slotKey(s, n))).filter((k) => !values[k]?.trim()) : []),
    [chosen, values],
  );
  const send = async () => {
    if (!chosen) return;
    setBusy(true);
    setError(null);
    key.current ??= newKey();
    try {
      const content: Content = { kind: "template", name: chosen.name, language: chosen.language, components: components(chosen, values) };
      await onSend(content, key.current);
      key.current = null;
      onClose();
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="template-picker" aria-label="Templates" data-testid="template-picker">
      <div className="section-head">
        <h3>Templates</h3>
        <button type="button" className="link-button" onClick={onClose}>
          Close
        </button>
      </div>
      {loaded.error ? <p className="error">{errorText(loaded.error)}</p> : null}
      {!loaded.data && !loaded.error && <p className="muted">Loading templates…</p>}
      {loaded.data && templates.length === 0 && <p className="muted">No approved template is synced for this number.</p>}
      {!chosen && (
        <ul className="template-list">
          {templates.map((t) => (
            <li key={`${t.name}:${t.language}`}>
              <button
                type="button"
                className="template-row"
                onClick={() => choose(t)}
              >
                <strong>{t.name}</strong> <span className="chip">{t.language}</span>
                {t.category && <span className="chip">{t.category.toLowerCase()}</span>}
                <span className="muted template-body" dir="auto">
                  {t.body}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {chosen && (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <p className="template-preview" dir="auto" data-testid="template-preview">
            {preview(chosen, values)}
          </p>
          {chosen.slots.flatMap((slot) =>
            slot.names.map((name, i) => (
              <label key={slotKey(slot, name)} className="field">
                {slot.component === "button" ? `Button ${slot.index ?? ""} ` : `${slot.component} `}
                {`{{${name}}}`}
                {slot.kinds.some((k) => ["image", "video", "document"].includes(k)) ? " (https link)" : ""}
                <input
                  dir="auto"
                  autoFocus={i === 0 && slot === chosen.slots[0]}
                  value={values[slotKey(slot, name)] ?? ""}
                  onChange={(e) => {
                    key.current = null;
                    setValues({ ...values, [slotKey(slot, name)]: e.target.value });
                  }}
                />
              </label>
            )),
          )}
          <div className="row">
            <button type="submit" disabled={busy || missing.length > 0}>
              Send template
            </button>
            <button type="button" className="secondary" onClick={() => choose(null)}>
              Other template
            </button>
          </div>
          {error && <p className="error">{error}</p>}
        </form>
      )}
    </section>
  );
}
