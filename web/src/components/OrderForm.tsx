// Quick action "create an order": pre-filled with the customer and address, lines, fee, note.
import { useRef, useState } from "react";
import type { Customer } from "../api/customers";
import type { Conversation } from "../api/inbox";
import { newKey } from "../api/http";
import { ordersApi, type LineDraft, type Order } from "../api/orders";
import { centsToString, formatMad, lineCents, orderCents } from "../format";
import { Dialog } from "./Dialog";
import { errorText } from "./errors";

interface Props {
  customer: Customer;
  conversation: Conversation | null;
  onClose: () => void;
  onCreated: (order: Order) => void;
}

const PRICE = /^\d{1,10}(\.\d{1,2})?$/;

export function OrderForm({ customer, conversation, onClose, onCreated }: Props) {
  const [lines, setLines] = useState<LineDraft[]>([{ name: "", quantity: 1, unit_price: "" }]);
  const [fee, setFee] = useState("0");
  const [city, setCity] = useState(customer.city ?? "");
  const [address, setAddress] = useState(customer.address ?? "");
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const key = useRef(newKey()); // the same order however often the agent clicks
  const valid = lines.every((l) => l.name.trim() && l.quantity >= 1 && PRICE.test(l.unit_price)) && PRICE.test(fee);
  const totalCents = valid ? orderCents(lines, fee) : null;
  const setLine = (index: number, change: Partial<LineDraft>) =>
    setLines(lines.map((line, i) => (i === index ? { ...line, ...change } : line)));
  const submit = async () => {
    if (!valid || busy) return;
    setBusy(true);
    setError(null);
    try {
      const order = await ordersApi.create(
        {
          customer_id: customer.customer_id,
          conversation_key: conversation?.conversation_key,
          phone_number_id: conversation?.phone_number_id,
          lines: lines.map((l) => ({ ...l, name: l.name.trim() })),
          shipping_fee: fee,
          shipping_city: city.trim() || undefined,
          shipping_address: address.trim() || undefined,
          note: note.trim() || undefined,
        },
        key.current,
      );
      onCreated(order);
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={`New order for ${customer.name ?? "this customer"}`} onClose={onClose} testId="order-form">
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <fieldset className="lines">
          <legend>Lines (unit prices in MAD)</legend>
          {lines.map((line, index) => (
            <div className="line" key={index}>
              <input
                dir="auto"
                aria-label={`Product ${index + 1}`}
                placeholder="Product"
                value={line.name}
                autoFocus={index === 0}
                onChange={(e) => setLine(index, { name: e.target.value })}
              />
              <input
                type="number"
                min={1}
                aria-label={`Quantity ${index + 1}`}
                value={line.quantity}
                onChange={(e) => setLine(index, { quantity: Math.max(1, Math.trunc(Number(e.target.value)) || 1) })}
              />
              <input
                inputMode="decimal"
                aria-label={`Unit price ${index + 1} (MAD)`}
                placeholder="Price MAD"
                value={line.unit_price}
                onChange={(e) => setLine(index, { unit_price: e.target.value.replace(",", ".") })}
              />
              <output className="line-total" aria-label={`Line ${index + 1} total`} data-testid="line-total">
                {PRICE.test(line.unit_price) ? formatMad(centsToString(lineCents(line.unit_price, line.quantity))) : "—"}
              </output>
              {lines.length > 1 && (
                <button type="button" className="link-button" aria-label={`Remove line ${index + 1}`} onClick={() => setLines(lines.filter((_, i) => i !== index))}>
                  ✕
                </button>
              )}
            </div>
          ))}
          <button type="button" className="small secondary" onClick={() => setLines([...lines, { name: "", quantity: 1, unit_price: "" }])}>
            + Line
          </button>
        </fieldset>
        <label className="field">
          Shipping fee (MAD)
          <input inputMode="decimal" value={fee} onChange={(e) => setFee(e.target.value.replace(",", "."))} />
        </label>
        <label className="field">
          City
          <input dir="auto" value={city} onChange={(e) => setCity(e.target.value)} />
        </label>
        <label className="field">
          Address
          <input dir="auto" value={address} onChange={(e) => setAddress(e.target.value)} />
        </label>
        <label className="field">
          Note
          <textarea dir="auto" rows={2} value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        <p className="order-total">
          Total: <strong data-testid="order-total">{totalCents === null ? "—" : formatMad(centsToString(totalCents))}</strong>
        </p>
        <div className="row">
          <button type="submit" disabled={!valid || busy}>
            Create order
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </Dialog>
  );
}
