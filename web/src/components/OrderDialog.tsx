// One order: lines, amounts, where it goes, its history, and moving it to another stage.
import { useState } from "react";
import { ApiError } from "../api/http";
import { ordersApi, type Order } from "../api/orders";
import { formatDateTime, formatMad } from "../format";
import { useLoad } from "../hooks";
import { Dialog } from "./Dialog";
import { errorText } from "./errors";
import { StageBadge } from "./StageBadge";

interface Props {
  orderId: string;
  onClose: () => void;
  onChanged: () => void;
}

const KINDS: Record<string, string> = {
  created: "created the order",
  edited: "edited",
  stage_changed: "moved it",
  cancelled: "cancelled it",
  customer_repointed: "moved it to the merged customer",
};

export function OrderDialog({ orderId, onClose, onChanged }: Props) {
  const order = useLoad(() => ordersApi.get(orderId), [orderId]);
  const pipeline = useLoad(() => ordersApi.pipeline(), []);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const move = async (current: Order, stageId: string) => {
    setBusy(true);
    setError(null);
    try {
      await ordersApi.moveStage(current, stageId);
      order.reload();
      onChanged();
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === "version_conflict") order.reload();
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  };
  const o = order.data;
  return (
    <Dialog title={o ? `Order ${o.label}` : "Order"} onClose={onClose} testId="order-dialog">
      {order.error ? <p className="error">{errorText(order.error)}</p> : null}
      {!o && !order.error && <p className="muted">Loading…</p>}
      {o && (
        <div className="stack">
          <div className="row">
            <StageBadge stage={o.stage} />
            <span className="muted">placed {formatDateTime(o.placed_at)}</span>
            {o.created_by && <span className="muted">by {o.created_by.name}</span>}
          </div>
          <table className="order-lines">
            <tbody>
              {o.lines.map((line, index) => (
                <tr key={index}>
                  <td dir="auto">{line.name}</td>
                  <td>× {line.quantity}</td>
                  <td className="amount">{formatMad(line.total)}</td>
                </tr>
              ))}
              <tr>
                <td colSpan={2}>Shipping</td>
                <td className="amount">{formatMad(o.shipping_fee)}</td>
              </tr>
              <tr className="total-row">
                <td colSpan={2}>Total ({o.payment_method === "cash_on_delivery" ? "cash on delivery" : o.payment_method})</td>
                <td className="amount">{formatMad(o.total)}</td>
              </tr>
            </tbody>
          </table>
          {(o.shipping_city || o.shipping_address) && (
            <p dir="auto">📦 {[o.shipping_address, o.shipping_city].filter(Boolean).join(", ")}</p>
          )}
          {o.note && (
            <p className="muted" dir="auto">
              {o.note}
            </p>
          )}
          <label className="field">
            Stage
            <select value={o.stage.id} disabled={busy} onChange={(e) => void move(o, e.target.value)} aria-label="Change the stage">
              {(pipeline.data?.stages ?? [o.stage]).map((stage) => (
                <option key={stage.id} value={stage.id}>
                  {stage.name}
                </option>
              ))}
            </select>
          </label>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <h3>History</h3>
          <ol className="history">
            {(o.history ?? []).map((entry) => (
              <li key={entry.version}>
                <time dateTime={entry.at}>{formatDateTime(entry.at)}</time> · {entry.by?.name ?? "system"} {KINDS[entry.kind] ?? entry.kind}
                {entry.to_stage && (
                  <>
                    {" "}
                    → <StageBadge stage={entry.to_stage} />
                  </>
                )}
                {entry.reason ? ` (${entry.reason})` : ""}
              </li>
            ))}
          </ol>
        </div>
      )}
    </Dialog>
  );
}
