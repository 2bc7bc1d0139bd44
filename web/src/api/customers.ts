// The customers service (services/customers/README.md): cards, lookup, duplicates, merge.
import { call } from "./http";

export interface Phone {
  e164: string;
  raw: string;
}

export interface Identity {
  kind: string;
  value: string;
  scope?: string | null;
}

export interface Stats {
  orders_count: number;
  not_spent_count: number;
  total_spent: string;
  currency: string;
  last_order_at: string | null;
}

export interface Customer {
  customer_id: string;
  name: string | null;
  phones: Phone[];
  identities: Identity[];
  city: string | null;
  address: string | null;
  tags: string[];
  status: string | null;
  archived: boolean;
  merged_into?: string | null;
  version: number;
  stats: Stats;
}

export interface ContactInfo {
  profile_name: string | null;
  phone_e164: string | null;
  identities: Identity[];
}

export interface Lookup {
  outcome: "known" | "unknown" | "duplicates";
  customer: Customer | null;
  candidates: Customer[];
  contact: ContactInfo | null;
}

export interface LookupQuery {
  phone?: string;
  wa_id?: string;
  user_id?: string;
  phone_number_id?: string;
  username?: string;
}

export interface CustomerDraft {
  name?: string;
  phones?: string[];
  identities?: Identity[];
  city?: string;
  address?: string;
  tags?: string[];
  status?: string;
  conversation_key?: string;
}

export const customersApi = {
  get: (customerId: string) => call<Customer>("customers", `/customers/${encodeURIComponent(customerId)}`),
  lookup: (query: LookupQuery) => call<Lookup>("customers", "/customers/lookup", { query: { ...query } }),
  create: (draft: CustomerDraft) => call<Customer>("customers", "/customers", { body: draft }),
  merge: (survivorId: string, absorbedIds: string[]) =>
    call<Customer>("customers", `/customers/${encodeURIComponent(survivorId)}/merge`, {
      body: { absorbed_ids: absorbedIds },
    }),
};

/** Where the full card lives (the customers screen is another client's; its API is the card). */
export function cardLink(customerId: string): string {
  return `/customers/${encodeURIComponent(customerId)}`;
}
