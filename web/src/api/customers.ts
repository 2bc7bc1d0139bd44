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
  merged_ids?: string[];
  created_at?: string;
  created_by?: string | null;
  updated_at?: string;
  updated_by?: string | null;
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

export interface CustomerPatch {
  name?: string | null;
  phones?: string[];
  city?: string | null;
  address?: string | null;
  tags?: string[];
  status?: string | null;
  version?: number;
}

export interface CustomerSettings {
  statuses: string[];
  default_region?: string;
}

export const customersApi = {
  get: (customerId: string) => call<Customer>("customers", `/customers/${encodeURIComponent(customerId)}`),
  update: (customerId: string, patch: CustomerPatch) =>
    call<Customer>("customers", `/customers/${encodeURIComponent(customerId)}`, { method: "PATCH", body: patch }),
  settings: () => call<CustomerSettings>("customers", "/customers/settings"),
  lookup: (query: LookupQuery) => call<Lookup>("customers", "/customers/lookup", { query: { ...query } }),
  create: (draft: CustomerDraft) => call<Customer>("customers", "/customers", { body: draft }),
  merge: (survivorId: string, absorbedIds: string[]) =>
    call<Customer>("customers", `/customers/${encodeURIComponent(survivorId)}/merge`, {
      body: { absorbed_ids: absorbedIds },
    }),
};

/** The full card's route in this client (the gateways serve the app for every such path). */
export function cardLink(customerId: string): string {
  return `/customers/${encodeURIComponent(customerId)}`;
}
