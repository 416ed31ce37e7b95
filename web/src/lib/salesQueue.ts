// Sales recorded at the market wait in IndexedDB until they reach the sales service: nothing is lost on a
// reload, a closed browser or a dead network. Each carries the device's client_sale_id, so a batch sent
// again (its answer lost) counts once. A sale the service refuses for good stays here, marked with the reason.
// Each sale is its officer's: it is sent only while that officer is logged in, never under another's name
// (a shared phone); it waits for its owner. (A sale queued before owners were kept is sent by whoever flushes.)
import { openDB, type IDBPDatabase } from "idb";
import { api, ApiError } from "./api";
import { session } from "./auth.svelte";

export interface QueuedSale {
  client_sale_id: string;
  province: string;
  market_day_id: string;
  product_id: string;
  product_name: string;
  quantity: string;
  unit_price_thb: string;
  sold_at: string;
  queued_at: string;
  refused?: string;  // the service's reason, when refused for good
  owner?: string;  // the subject of the officer who recorded it
}

const STORE = "sales";
const BATCH = 500;
let database: Promise<IDBPDatabase> | null = null;

function db(): Promise<IDBPDatabase> {
  database ??= openDB("otop-sales-queue", 1, {
    upgrade(created) {
      created.createObjectStore(STORE, { keyPath: "client_sale_id" });
    },
  });
  return database;
}

type Listener = () => void;
const listeners = new Set<Listener>();
export function onQueueChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
const changed = () => listeners.forEach((listener) => listener());

export async function enqueue(sale: Omit<QueuedSale, "client_sale_id" | "queued_at" | "owner">): Promise<QueuedSale> {
  const owner = session.principal?.subject;
  if (!owner) throw new Error("no officer is logged in");
  const queued = { ...sale, owner, client_sale_id: crypto.randomUUID(), queued_at: new Date().toISOString() };
  await (await db()).put(STORE, queued);
  changed();
  return queued;
}

export async function queued(): Promise<QueuedSale[]> {
  const all = (await (await db()).getAll(STORE)) as QueuedSale[];
  return all.sort((a, b) => a.queued_at.localeCompare(b.queued_at));
}

export async function forget(clientSaleId: string): Promise<void> {
  await (await db()).delete(STORE, clientSaleId);
  changed();
}

/** Send what waits, a batch at a time (one flush at a time in this browser). Returns how many were sent;
 * stops quietly when the network is down. */
export async function flush(): Promise<number> {
  return navigator.locks.request("otop-sales-queue", async () => {
    let sent = 0;
    for (;;) {
      const me = session.principal?.subject;
      if (!me) return sent;
      const waiting = (await queued()).filter((sale) => !sale.refused && (!sale.owner || sale.owner === me));
      if (waiting.length === 0) return sent;
      const batch = waiting.slice(0, BATCH);
      const province = batch[0].province;
      const same = batch.filter((sale) => sale.province === province);
      try {
        await api("sales", `/provinces/${province}/sales/batch`, { method: "POST", body: { sales: same.map((s) => ({
          client_sale_id: s.client_sale_id, market_day_id: s.market_day_id, product_id: s.product_id,
          quantity: s.quantity, unit_price_thb: s.unit_price_thb, sold_at: s.sold_at })) } });
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 422 || error.fields.length === 0) return sent;
        // All or none: mark the ones refused for good, then send the rest again. A reference the service has
        // not heard of yet (its events are on the way) is not refused for good: it waits for the next flush.
        const refusedForGood = error.fields.filter((f) => f.type !== "unknown_reference");
        if (refusedForGood.length === 0) return sent;
        const store = (await db()).transaction(STORE, "readwrite").store;
        for (const field of refusedForGood) {
          const index = Number(field.field.split(".")[1]);
          if (same[index]) await store.put({ ...same[index], refused: field.message });
        }
        changed();
        continue;
      }
      const store = (await db()).transaction(STORE, "readwrite").store;
      await Promise.all(same.map((sale) => store.delete(sale.client_sale_id)));
      sent += same.length;
      changed();
    }
  });
}
