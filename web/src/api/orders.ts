// The orders service (services/orders/README.md): orders, stages, the pipeline.
import { call, newKey } from "./http";

export interface Stage {
  id: string;
  name: string;
  color: string;
  state: string;
}

export interface PipelineStage extends Stage {
  position: number;
}

export interface Pipeline {
  stages: PipelineStage[];
  transitions: Record<string, string[]> | null;
  version: number;
}

export interface OrderLine {
  name: string;
  sku?: string | null;
  quantity: number;
  unit_price: string;
  total: string;
}

export interface Actor {
  id: string;
  name: string;
}

export interface HistoryEntry {
  kind: string;
  at: string;
  by: Actor | null;
  version: number;
  from_stage?: Stage | null;
  to_stage?: Stage | null;
  changed_fields?: string[];
  reason?: string | null;
}

export interface Order {
  id: string;
  number: number;
  label: string;
  customer_id: string;
  conversation_key?: string | null;
  phone_number_id?: string | null;
  lines: OrderLine[];
  shipping_fee: string;
  total: string;
  currency: string;
  shipping_city?: string | null;
  shipping_address?: string | null;
  payment_method: string;
  note?: string | null;
  stage: Stage;
  placed_at: string;
  created_by: Actor | null;
  updated_at: string;
  version: number;
  history?: HistoryEntry[];
}

export interface OrderPage {
  items: Order[];
  next_cursor: string | null;
}

export interface LineDraft {
  name: string;
  quantity: number;
  unit_price: string;
}

export interface OrderDraft {
  customer_id: string;
  conversation_key?: string;
  phone_number_id?: string;
  lines: LineDraft[];
  shipping_fee: string;
  shipping_city?: string;
  shipping_address?: string;
  note?: string;
}

/** Cancelled and returned orders are not money spent (NOT_SPENT_STATES in the contracts). */
export const NOT_SPENT_STATES = new Set(["cancelled", "returned"]);

export const ordersApi = {
  list: (query: { customer_id?: string; conversation_key?: string; limit?: number; cursor?: string }) =>
    call<OrderPage>("orders", "/orders", { query: { limit: 50, ...query } }),
  get: (orderId: string) => call<Order>("orders", `/orders/${encodeURIComponent(orderId)}`),
  create: (draft: OrderDraft, key: string = newKey()) =>
    call<Order>("orders", "/orders", { body: draft, headers: { "Idempotency-Key": key } }),
  moveStage: (order: Order, stageId: string) =>
    call<Order>("orders", `/orders/${encodeURIComponent(order.id)}/stage`, {
      body: { stage_id: stageId },
      headers: { "If-Match": `"${order.version}"` },
    }),
  pipeline: () => call<Pipeline>("orders", "/pipeline"),
};
