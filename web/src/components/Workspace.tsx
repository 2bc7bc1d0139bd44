// The chat screen: conversation list, conversation and customer panel, kept live.
import { useCallback, useEffect, useRef, useState } from "react";
import { inboxApi, type Filter } from "../api/inbox";
import type { DevConfig } from "../api/dev";
import { isMissing } from "../api/http";
import { connectLive, type LiveEvent, type LiveMode } from "../live";
import { useDebounced, useLoad } from "../hooks";
import type { Session } from "../session";
import { ConversationList } from "./ConversationList";
import { ConversationView, type QuickAction } from "./ConversationView";
import { OrderDialog } from "./OrderDialog";
import { OrderForm } from "./OrderForm";
import { currentOrder, useCustomerContext } from "../customerContext";
import { cardLink } from "../api/customers";
import { customerIdOf, useRoute } from "../route";
import { CustomerCard } from "./CustomerCard";
import { CustomerPanel } from "./CustomerPanel";
import { SimulateControl } from "./SimulateControl";
import { presenceOf, type Presence } from "./presence";

interface Props {
  session: Session;
  dev: DevConfig | null;
  onSignOut: () => void;
}

export type Pane = "list" | "conversation" | "customer";

type Open = { kind: "create-order" } | { kind: "order"; orderId: string } | null;

export function Workspace({ session, dev, onSignOut }: Props) {
  const route = useRoute();
  const cardId = customerIdOf(route.path);
  const [filter, setFilter] = useState<Filter>("all");
  const [numberId, setNumberId] = useState("");
  const [search, setSearch] = useState("");
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [pane, setPane] = useState<Pane>("list");
  const [liveMode, setLiveMode] = useState<LiveMode | null>(null);
  const [version, setVersion] = useState(0); // grows on every live event: views reload
  const [presence, setPresence] = useState<Presence[]>([]);
  const q = useDebounced(search.trim(), 250);
  const query = { filter, phone_number_id: numberId || undefined, q: q || undefined };
  const list = useLoad(() => inboxApi.list(query), [filter, numberId, q], true);
  const counts = useLoad(() => inboxApi.counts({ phone_number_id: query.phone_number_id, q: query.q }), [numberId, q], true);
  const channels = useLoad(() => inboxApi.channels(), []);
  const team = useLoad(() => inboxApi.agents().catch(() => []), []);
  const reloadRef = useRef(() => {});
  const pending = useRef<number | undefined>(undefined);
  reloadRef.current = () => {
    // A burst of live events costs one reload.
    if (pending.current !== undefined) return;
    pending.current = window.setTimeout(() => {
      pending.current = undefined;
      list.reload();
      counts.reload();
      setVersion((v) => v + 1);
    }, 200);
  };
  const onEvent = useCallback((event: LiveEvent) => {
    if (event.type === "keepalive") return;
    if (event.type === "ready" || event.type === "reset") {
      const present = (event.data as { presence?: unknown[] } | null)?.presence ?? [];
      const seen = present.map((data) => presenceOf({ id: null, type: "inbox.presence.changed", data }));
      setPresence(seen.filter((p): p is Presence => p !== null));
    }
    const seen = presenceOf(event);
    if (seen) {
      setPresence((all) => [...all.filter((p) => p.key !== seen.key), seen]);
      return;
    }
    reloadRef.current();
  }, []);
  useEffect(
    () => connectLive({ onEvent, onTick: () => reloadRef.current(), onMode: setLiveMode }),
    [onEvent],
  );
  useEffect(() => {
    // Back from the full card: what was edited there shows in the panel at once.
    if (cardId === null) reloadRef.current();
  }, [cardId]);
  const conversations = list.data?.items ?? [];
  const current = useLoad(selectedId ? () => inboxApi.get(selectedId) : null, [selectedId]);
  useEffect(() => {
    if (selectedId) current.reload();
  }, [version]);
  const listed = conversations.find((c) => c.id === selectedId) ?? null;
  const selected = current.data?.id === selectedId ? current.data : listed;
  const open = (id: string) => {
    setSelectedId(id);
    setPane("conversation");
  };
  const customer = useCustomerContext(selected, version);
  const [dialog, setDialog] = useState<Open>(null);
  const [hint, setHint] = useState<string | null>(null);
  useEffect(() => {
    if (!hint) return;
    const timer = window.setTimeout(() => setHint(null), 5000);
    return () => window.clearTimeout(timer);
  }, [hint]);
  const known = customer.data?.outcome === "known" ? customer.data.customer : null;
  const act = (action: QuickAction) => {
    setHint(null);
    if (!known) {
      setHint("Create or pick the customer in the panel first.");
      setPane("customer");
      return;
    }
    if (action === "create-order") setDialog({ kind: "create-order" });
    else if (action === "card") route.navigate(cardLink(known.customer_id));
    else {
      const order = currentOrder(customer.data?.orders ?? []);
      if (order) setDialog({ kind: "order", orderId: order.id });
      else setHint("This customer has no order yet.");
    }
  };
  const workspace = dev?.workspaces.find((w) => w.workspace_id === session.workspaceId);
  const seeded = workspace?.agents.map((a) => ({ id: a.agent_id, name: a.name })) ?? [];
  const members = team.data ?? [];
  const agents = [...members, ...seeded.filter((a) => !members.some((m) => m.id === a.id))];
  const listUnavailable = list.error && isMissing(list.error);
  return (
    <div className={`app pane-${pane}`}>
      <header className="topbar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true">
            ح
          </span>
          Hanout
        </div>
        <span className={`live-dot ${liveMode ?? "off"}`} title={liveMode === "stream" ? "Live" : "Refreshing every few seconds"}>
          {liveMode === "stream" ? "Live" : "Auto-refresh"}
        </span>
        <div className="topbar-spacer" />
        {dev?.simulator && workspace && <SimulateControl numbers={workspace.numbers} onSent={() => reloadRef.current()} />}
        {session.name && (
          <span className="whoami" data-testid="whoami">
            {session.name}
          </span>
        )}
        <button type="button" className="link-button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      {cardId && <CustomerCard customerId={cardId} agents={agents} version={version} onBack={() => route.navigate("/")} />}
      <div className="columns" hidden={cardId !== null}>
        <ConversationList
          conversations={conversations}
          counts={counts.data}
          channels={channels.data ?? []}
          filter={filter}
          onFilter={setFilter}
          numberId={numberId}
          onNumber={setNumberId}
          search={search}
          onSearch={setSearch}
          selectedId={selectedId}
          onOpen={open}
          loading={list.loading && !list.data}
          error={listUnavailable ? "The inbox service does not answer yet." : list.error ? String(list.error) : null}
          presence={presence}
          me={session.agentId}
        />
        <ConversationView
          key={selectedId ?? "none"}
          conversationId={selectedId}
          conversation={selected}
          version={version}
          session={session}
          agents={agents}
          presence={presence}
          onBack={() => setPane("list")}
          onShowCustomer={() => setPane("customer")}
          onChanged={() => reloadRef.current()}
          onAction={act}
        />
        <CustomerPanel
          conversation={selected}
          context={customer.data}
          loading={customer.loading}
          unavailable={customer.unavailable}
          error={customer.error}
          onBack={() => setPane("conversation")}
          onChanged={() => reloadRef.current()}
          onCreateOrder={() => act("create-order")}
          onOpenOrder={(order) => setDialog({ kind: "order", orderId: order.id })}
          onOpenCard={(c) => route.navigate(cardLink(c.customer_id))}
        />
      </div>
      {hint && (
        <div className="toast" role="status" onClick={() => setHint(null)}>
          {hint}
        </div>
      )}
      {dialog?.kind === "create-order" && known && (
        <OrderForm
          customer={known}
          conversation={selected}
          onClose={() => setDialog(null)}
          onCreated={() => {
            setDialog(null);
            reloadRef.current();
          }}
        />
      )}
      {dialog?.kind === "order" && (
        <OrderDialog orderId={dialog.orderId} onClose={() => setDialog(null)} onChanged={() => reloadRef.current()} />
      )}
    </div>
  );
}
