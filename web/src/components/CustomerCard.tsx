// The full customer card (route /customers/<id>): every phone as entered and normalised, the
// WhatsApp identities, who created and changed it, the order history, and its editable fields.
import { useState } from "react";
import { customersApi, type Customer } from "../api/customers";
import type { Person } from "../api/inbox";
import { ordersApi } from "../api/orders";
import { formatDate, formatDateTime, formatMad } from "../format";
import { useLoad } from "../hooks";
import { CardEditor } from "./CardEditor";
import { errorText } from "./errors";
import { OrderDialog } from "./OrderDialog";
import { StageBadge } from "./StageBadge";

interface Props {
  customerId: string;
  agents: Person[];
  version: number;
  onBack: () => void;
}

function Stamp({ label, by, at, agents }: { label: string; by?: string | null; at?: string; agents: Person[] }) {
  const who = by ? (agents.find((a) => a.id === by)?.name ?? by) : "the system";
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={`card-${label.toLowerCase()}`}>
        {at ? formatDateTime(at) : "—"} · by {who}
      </dd>
    </div>
  );
}

function Details({ customer, agents }: { customer: Customer; agents: Person[] }) {
  return (
    <dl className="card-grid">
      <div>
        <dt>Phones (as entered → normalised)</dt>
        <dd>
          <ul className="plain" data-testid="card-phones">
            {customer.phones.map((p) => (
              <li key={p.e164} dir="ltr">
                {p.raw} → <strong>{p.e164}</strong>
              </li>
            ))}
            {customer.phones.length === 0 && <li>—</li>}
          </ul>
        </dd>
      </div>
      <div>
        <dt>WhatsApp identities</dt>
        <dd>
          <ul className="plain" data-testid="card-identities">
            {customer.identities.map((i) => (
              <li key={`${i.kind}:${i.value}:${i.scope ?? ""}`} dir="ltr">
                {i.kind}: {i.value}
                {i.scope ? ` (${i.scope})` : ""}
              </li>
            ))}
            {customer.identities.length === 0 && <li>—</li>}
          </ul>
        </dd>
      </div>
      <div>
        <dt>City</dt>
        <dd dir="auto">{customer.city ?? "—"}</dd>
      </div>
      <div>
        <dt>Address</dt>
        <dd dir="auto">{customer.address ?? "—"}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>{customer.status ? <span className="chip status">{customer.status}</span> : "—"}</dd>
      </div>
      <div>
        <dt>Tags</dt>
        <dd data-testid="card-tags">
          {customer.tags.length
            ? customer.tags.map((t) => (
                <span key={t} className="chip" dir="auto">
                  {t}
                </span>
              ))
            : "—"}
        </dd>
      </div>
      <Stamp label="Created" by={customer.created_by} at={customer.created_at} agents={agents} />
      <Stamp label="Updated" by={customer.updated_by} at={customer.updated_at} agents={agents} />
    </dl>
  );
}

export function CustomerCard({ customerId, agents, version, onBack }: Props) {
  const card = useLoad(() => customersApi.get(customerId), [customerId, version]);
  const orders = useLoad(() => ordersApi.list({ customer_id: customerId, limit: 200 }), [customerId, version]);
  const [editing, setEditing] = useState(false);
  const [openOrder, setOpenOrder] = useState<string | null>(null);
  const customer = card.data;
  return (
    <main className="customer-page" aria-label="Customer card" data-testid="customer-card">
      <div className="page-head">
        <button type="button" className="secondary small" onClick={onBack}>
          ← Back to the inbox
        </button>
        <h1 dir="auto" data-testid="card-name">
          {customer ? (customer.name ?? "Unnamed customer") : "Customer card"}
        </h1>
        {customer && !editing && (
          <button type="button" className="small" onClick={() => setEditing(true)}>
            Edit
          </button>
        )}
      </div>
      {card.error ? <p className="error pad">{errorText(card.error)}</p> : null}
      {!customer && !card.error && <p className="muted pad">Loading…</p>}
      {customer && (
        <div className="page-body">
          {customer.archived && <p className="notice">This card is archived.</p>}
          <section className="page-section">
            {editing ? (
              <CardEditor
                customer={customer}
                onCancel={() => setEditing(false)}
                onSaved={(saved) => {
                  card.setData(saved);
                  setEditing(false);
                }}
              />
            ) : (
              <Details customer={customer} agents={agents} />
            )}
          </section>
          <section className="stats" aria-label="Statistics">
            <div>
              <strong data-testid="card-orders-count">{customer.stats.orders_count}</strong>
              <span>orders ({customer.stats.not_spent_count} cancelled or returned)</span>
            </div>
            <div>
              <strong data-testid="card-total-spent">{formatMad(customer.stats.total_spent)}</strong>
              <span>spent</span>
            </div>
          </section>
          <section className="page-section">
            <h2>Order history</h2>
            {orders.error ? <p className="error">{errorText(orders.error)}</p> : null}
            {orders.data && orders.data.items.length === 0 && <p className="muted">No order yet.</p>}
            <table className="orders-table" data-testid="card-orders">
              <tbody>
                {(orders.data?.items ?? []).map((order) => (
                  <tr key={order.id}>
                    <td>
                      <button type="button" className="link-button" onClick={() => setOpenOrder(order.id)}>
                        {order.label}
                      </button>
                    </td>
                    <td>{formatDate(order.placed_at)}</td>
                    <td className="amount">{formatMad(order.total)}</td>
                    <td>
                      <StageBadge stage={order.stage} />
                    </td>
                    <td className="muted">{order.created_by ? `by ${order.created_by.name}` : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <p className="muted small-text">
            Card {customer.customer_id} · version {customer.version}
            {customer.merged_ids?.length ? ` · merged from ${customer.merged_ids.length} other record(s)` : ""}
          </p>
        </div>
      )}
      {openOrder && (
        <OrderDialog
          orderId={openOrder}
          onClose={() => setOpenOrder(null)}
          onChanged={() => {
            orders.reload();
            card.reload();
          }}
        />
      )}
    </main>
  );
}
