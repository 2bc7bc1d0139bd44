// Who the conversation's contact is (card, duplicates or unknown) and their orders: loaded once
// for the customer panel and the quick actions.
import { useEffect } from "react";
import { customersApi, type ContactInfo, type Customer, type LookupQuery } from "./api/customers";
import type { Conversation } from "./api/inbox";
import { ApiError, isMissing } from "./api/http";
import { NOT_SPENT_STATES, ordersApi, type Order } from "./api/orders";
import { sumCents, toCents } from "./format";
import { useLoad } from "./hooks";

export type Outcome = "known" | "unknown" | "duplicates" | "unidentified";

export interface CustomerContext {
  outcome: Outcome;
  customer: Customer | null;
  candidates: Customer[];
  contact: ContactInfo | null;
  orders: Order[];
  ordersComplete: boolean;
}

export interface Stats {
  count: number;
  totalCents: number;
}

function lookupQuery(conversation: Conversation): LookupQuery | null {
  const contact = conversation.contact;
  if (contact.wa_id) return { wa_id: contact.wa_id };
  if (conversation.phone_e164) return { phone: conversation.phone_e164 };
  if (contact.user_id) return { user_id: contact.user_id, phone_number_id: conversation.phone_number_id };
  if (contact.username) return { username: contact.username };
  return null;
}

async function known(conversation: Conversation): Promise<Customer | null> {
  const id = conversation.customer?.outcome === "known" ? conversation.customer.customer_id : null;
  if (!id) return null;
  try {
    return await customersApi.get(id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

async function withOrders(context: Omit<CustomerContext, "orders" | "ordersComplete">): Promise<CustomerContext> {
  if (!context.customer) return { ...context, orders: [], ordersComplete: true };
  const page = await ordersApi.list({ customer_id: context.customer.customer_id, limit: 200 });
  return { ...context, orders: page.items, ordersComplete: page.next_cursor === null };
}

export async function loadCustomerContext(conversation: Conversation): Promise<CustomerContext> {
  const empty = { candidates: [], contact: null };
  const card = await known(conversation);
  if (card) return withOrders({ ...empty, outcome: "known", customer: card });
  const query = lookupQuery(conversation);
  if (!query) return withOrders({ ...empty, outcome: "unidentified", customer: null });
  const found = await customersApi.lookup(query);
  return withOrders({
    outcome: found.outcome,
    customer: found.customer,
    candidates: found.candidates,
    contact: found.contact,
  });
}

/** From the orders themselves when all are loaded (exact and immediate), else the card's stats. */
export function statsOf(context: CustomerContext): Stats {
  const stats = context.customer?.stats;
  if (!context.ordersComplete && stats) {
    return { count: stats.orders_count, totalCents: toCents(stats.total_spent) };
  }
  const spent = context.orders.filter((o) => !NOT_SPENT_STATES.has(o.stage.state) && o.currency === "MAD");
  return { count: context.orders.length, totalCents: sumCents(spent.map((o) => o.total)) };
}

/** The order an after-sales call is about: the newest still moving, else the newest. */
export function currentOrder(orders: Order[]): Order | null {
  const finished = new Set(["delivered", "cancelled", "returned"]);
  return orders.find((o) => !finished.has(o.stage.state)) ?? orders[0] ?? null;
}

export function useCustomerContext(conversation: Conversation | null, version: number) {
  const loaded = useLoad(conversation ? () => loadCustomerContext(conversation) : null, [
    conversation?.conversation_key ?? null,
  ]);
  const customerId = conversation?.customer?.customer_id ?? null;
  useEffect(() => {
    if (conversation) loaded.reload();
  }, [version, customerId]);
  const unavailable = loaded.error !== null && (isMissing(loaded.error) || loaded.error instanceof TypeError);
  return { ...loaded, unavailable };
}
