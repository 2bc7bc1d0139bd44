// Right column: who the customer is, their stats and orders; unknown and duplicate cases.
import { useState } from "react";
import { cardLink, customersApi, type Customer } from "../api/customers";
import type { Conversation } from "../api/inbox";
import type { Order } from "../api/orders";
import { type CustomerContext, statsOf } from "../customerContext";
import { formatDate, formatMad, centsToString } from "../format";
import { errorText } from "./errors";
import { StageBadge } from "./StageBadge";

interface Props {
  conversation: Conversation | null;
  context: CustomerContext | null;
  loading: boolean;
  unavailable: boolean;
  error: unknown;
  onBack: () => void;
  onChanged: () => void;
  onCreateOrder: () => void;
  onOpenOrder: (order: Order) => void;
  onOpenCard: (customer: Customer) => void;
}

export function CustomerPanel(props: Props) {
  const { conversation, context } = props;
  let body;
  if (!conversation) body = <p className="muted pad">Open a conversation to see who the customer is.</p>;
  else if (props.unavailable) body = <p className="notice">The customers service does not answer yet.</p>;
  else if (props.error && !context) body = <p className="error pad">{errorText(props.error)}</p>;
  else if (!context) body = <p className="muted pad">Looking the number up…</p>;
  else if (context.outcome === "known" && context.customer) body = <KnownCustomer {...props} customer={context.customer} context={context} />;
  else if (context.outcome === "duplicates") body = <Duplicates candidates={context.candidates} onMerged={props.onChanged} />;
  else body = <UnknownCustomer conversation={conversation} context={context} onCreated={props.onChanged} />;
  return (
    <aside className="column panel-column" aria-label="Customer" data-testid="customer-panel">
      <div className="panel-head">
        <button type="button" className="back-button" onClick={props.onBack} aria-label="Back to the conversation">
          ←
        </button>
        <h2>Customer</h2>
      </div>
      {body}
    </aside>
  );
}

function KnownCustomer(props: Props & { customer: Customer; context: CustomerContext }) {
  const { customer, context } = props;
  const stats = statsOf(context);
  return (
    <div className="panel-body">
      <section className="card">
        <h3 dir="auto" data-testid="customer-name">
          {customer.name ?? "Unnamed customer"}
        </h3>
        {customer.phones.map((phone) => (
          <div key={phone.e164} className="muted" dir="ltr">
            {phone.e164}
          </div>
        ))}
        {(customer.city || customer.address) && (
          <div className="address" dir="auto">
            {[customer.address, customer.city].filter(Boolean).join(", ")}
          </div>
        )}
        <div className="tags">
          {customer.status && <span className="chip status">{customer.status}</span>}
          {customer.tags.map((tag) => (
            <span key={tag} className="chip" dir="auto">
              {tag}
            </span>
          ))}
        </div>
        <a
          className="card-link"
          href={cardLink(customer.customer_id)}
          onClick={(e) => {
            if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return; // a new tab: the browser's
            e.preventDefault();
            props.onOpenCard(customer);
          }}
        >
          Full customer card
        </a>
      </section>
      <section className="stats" aria-label="Statistics">
        <div>
          <strong data-testid="orders-count">{stats.count}</strong>
          <span>{stats.count === 1 ? "order" : "orders"}</span>
        </div>
        <div>
          <strong data-testid="total-spent">{formatMad(centsToString(stats.totalCents))}</strong>
          <span>spent</span>
        </div>
      </section>
      <section>
        <div className="section-head">
          <h3>Orders</h3>
          <button type="button" className="small" onClick={props.onCreateOrder}>
            + New order
          </button>
        </div>
        {context.orders.length === 0 && <p className="muted">No order yet.</p>}
        <ul className="order-list" data-testid="order-history">
          {context.orders.map((order) => (
            <li key={order.id}>
              <button type="button" className="order-row" onClick={() => props.onOpenOrder(order)}>
                <span className="order-number">{order.label}</span>
                <span className="muted">{formatDate(order.placed_at)}</span>
                <span className="order-amount">{formatMad(order.total)}</span>
                <StageBadge stage={order.stage} />
              </button>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function UnknownCustomer({ conversation, context, onCreated }: { conversation: Conversation; context: CustomerContext; onCreated: () => void }) {
  const contact = context.contact;
  const phone = contact?.phone_e164 ?? conversation.phone_e164 ?? (conversation.contact.wa_id ? `+${conversation.contact.wa_id}` : "");
  const [form, setForm] = useState<{ name: string; phone: string; city: string; address: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const create = async () => {
    if (!form) return;
    setBusy(true);
    setError(null);
    try {
      await customersApi.create({
        name: form.name.trim() || undefined,
        phones: form.phone.trim() ? [form.phone.trim()] : [],
        identities: contact?.identities ?? [],
        city: form.city.trim() || undefined,
        address: form.address.trim() || undefined,
        conversation_key: conversation.conversation_key,
      });
      setForm(null);
      onCreated();
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="panel-body">
      <section className="card unknown">
        <h3>Unknown customer</h3>
        <p className="muted" dir="auto">
          {contact?.profile_name ?? conversation.contact.profile_name ?? ""} <span dir="ltr">{phone}</span>
        </p>
        {!form && (
          <button
            type="button"
            onClick={() =>
              setForm({ name: contact?.profile_name ?? conversation.contact.profile_name ?? "", phone, city: "", address: "" })
            }
          >
            Create customer
          </button>
        )}
        {form && (
          <form
            className="stack"
            onSubmit={(e) => {
              e.preventDefault();
              void create();
            }}
          >
            {(["name", "phone", "city", "address"] as const).map((field) => (
              <label key={field} className="field">
                {field[0].toUpperCase() + field.slice(1)}
                <input
                  dir="auto"
                  value={form[field]}
                  onChange={(e) => setForm({ ...form, [field]: e.target.value })}
                  autoFocus={field === "name"}
                />
              </label>
            ))}
            <div className="row">
              <button type="submit" disabled={busy}>
                Save customer
              </button>
              <button type="button" className="secondary" onClick={() => setForm(null)}>
                Cancel
              </button>
            </div>
            {error && <p className="error">{error}</p>}
          </form>
        )}
      </section>
    </div>
  );
}

function Duplicates({ candidates, onMerged }: { candidates: Customer[]; onMerged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const merge = async (survivor: Customer) => {
    setError(null);
    try {
      const others = candidates.filter((c) => c.customer_id !== survivor.customer_id).map((c) => c.customer_id);
      await customersApi.merge(survivor.customer_id, others);
      onMerged();
    } catch (caught) {
      setError(errorText(caught));
    }
  };
  return (
    <div className="panel-body">
      <section className="card duplicates" role="alert">
        <h3>Several customer records share this number</h3>
        <p className="muted">Keep one: the others are merged into it (their orders and phones follow).</p>
        <ul className="candidate-list">
          {candidates.map((c) => (
            <li key={c.customer_id}>
              <div>
                <strong dir="auto">{c.name ?? "Unnamed"}</strong>
                <div className="muted">
                  {c.stats.orders_count} orders · {formatMad(c.stats.total_spent)}
                  {c.city ? ` · ${c.city}` : ""}
                </div>
              </div>
              <button type="button" className="small" onClick={() => void merge(c)}>
                Merge into this one
              </button>
            </li>
          ))}
        </ul>
        {error && <p className="error">{error}</p>}
      </section>
    </div>
  );
}
