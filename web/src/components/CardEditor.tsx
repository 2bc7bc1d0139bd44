// Editing a customer card: name, phones (one per line, any format), city, address, tags, status.
import { useState } from "react";
import { customersApi, type Customer } from "../api/customers";
import { ApiError } from "../api/http";
import { useLoad } from "../hooks";
import { errorText } from "./errors";

interface Props {
  customer: Customer;
  onCancel: () => void;
  onSaved: (customer: Customer) => void;
}

const listOf = (text: string, separator: RegExp) =>
  text
    .split(separator)
    .map((part) => part.trim())
    .filter(Boolean);

export function CardEditor({ customer, onCancel, onSaved }: Props) {
  const settings = useLoad(() => customersApi.settings(), []);
  const [form, setForm] = useState({
    name: customer.name ?? "",
    phones: customer.phones.map((p) => p.raw).join("\n"),
    city: customer.city ?? "",
    address: customer.address ?? "",
    tags: customer.tags.join(", "),
    status: customer.status ?? "",
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (field: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [field]: e.target.value });
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      const saved = await customersApi.update(customer.customer_id, {
        name: form.name.trim() || null,
        phones: listOf(form.phones, /\n/),
        city: form.city.trim() || null,
        address: form.address.trim() || null,
        tags: listOf(form.tags, /,/),
        status: form.status || null,
        version: customer.version,
      });
      onSaved(saved);
    } catch (caught) {
      const field = caught instanceof ApiError ? caught.details.find((d) => d.field)?.field : undefined;
      setError(`${errorText(caught)}${field ? ` (${field})` : ""}`);
    } finally {
      setBusy(false);
    }
  };
  const statuses = settings.data?.statuses ?? [];
  return (
    <form
      className="stack card-editor"
      aria-label="Edit the customer card"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      onKeyDown={(e) => {
        if (e.key === "Escape") onCancel();
      }}
    >
      <label className="field">
        Name
        <input dir="auto" value={form.name} onChange={set("name")} autoFocus />
      </label>
      <label className="field">
        Phones (one per line, any format)
        <textarea dir="ltr" rows={2} value={form.phones} onChange={set("phones")} />
      </label>
      <label className="field">
        City
        <input dir="auto" value={form.city} onChange={set("city")} />
      </label>
      <label className="field">
        Address
        <input dir="auto" value={form.address} onChange={set("address")} />
      </label>
      <label className="field">
        Tags (comma-separated)
        <input dir="auto" value={form.tags} onChange={set("tags")} />
      </label>
      <label className="field">
        Status
        <select value={form.status} onChange={set("status")}>
          <option value="">None</option>
          {[...new Set([...statuses, ...(customer.status ? [customer.status] : [])])].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <div className="row">
        <button type="submit" disabled={busy}>
          Save card
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
