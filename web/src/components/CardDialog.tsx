// The full customer card: every phone and WhatsApp identity, tags, status and the stats.
import type { Customer } from "../api/customers";
import { formatDateTime, formatMad } from "../format";
import { Dialog } from "./Dialog";

export function CardDialog({ customer, onClose }: { customer: Customer; onClose: () => void }) {
  const rows: [string, string | null][] = [
    ["Name", customer.name],
    ["Phones", customer.phones.map((p) => p.e164).join(", ") || null],
    ["WhatsApp", customer.identities.map((i) => `${i.kind}: ${i.value}`).join(", ") || null],
    ["City", customer.city],
    ["Address", customer.address],
    ["Status", customer.status],
    ["Tags", customer.tags.join(", ") || null],
    ["Orders", `${customer.stats.orders_count} (${customer.stats.not_spent_count} cancelled or returned)`],
    ["Total spent", formatMad(customer.stats.total_spent)],
    ["Last order", customer.stats.last_order_at ? formatDateTime(customer.stats.last_order_at) : null],
  ];
  return (
    <Dialog title="Customer card" onClose={onClose} testId="card-dialog">
      <dl className="card-grid">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd dir="auto">{value ?? "—"}</dd>
          </div>
        ))}
      </dl>
      <p className="muted small-text">
        Card {customer.customer_id} · version {customer.version}
      </p>
    </Dialog>
  );
}
