// An in-memory LeaseStore for unit tests, following the PostgreSQL store's contract (spec §6): expiry is
// decided by the store's clock, an unpinned lease past its expiry counts as absent everywhere, pins hang on
// the key, and terms are never reused.
import { LeaseError } from "./errors";
import type { ClaimResult, LeaseEntry, LeaseInfo, LeaseKey, LeaseStore, PinEntry } from "./types";

const keyString = (key: LeaseKey) => `${key.namespace}\u0000${key.modelUUID}\u0000${key.lease}`;

interface Row {
  key: LeaseKey;
  info: LeaseInfo;
}

/** In-memory lease store for tests only; `now` plays the database clock. */
export class InMemoryLeaseStore implements LeaseStore {
  readonly #now: () => number;
  readonly #leases = new Map<string, Row>();
  readonly #pins = new Map<string, { key: LeaseKey; entities: Set<string> }>();
  readonly #terms = new Map<string, number>();

  constructor(clock: { now(): number }) {
    this.#now = () => clock.now();
  }

  async claimLease(
    key: LeaseKey,
    holder: string,
    durationMs: number,
    signal?: AbortSignal,
  ): Promise<ClaimResult> {
    checkSignal(signal);
    const id = keyString(key);
    if (this.#live(id)) throw new LeaseError("ErrHeld");
    const now = this.#now();
    const term = (this.#terms.get(id) ?? 0) + 1;
    this.#terms.set(id, term);
    this.#leases.set(id, {
      key: { ...key },
      info: { holder, startMs: now, expiryMs: now + durationMs, term },
    });
    return { term };
  }

  async extendLease(
    key: LeaseKey,
    holder: string,
    durationMs: number,
    signal?: AbortSignal,
  ): Promise<ClaimResult> {
    checkSignal(signal);
    const row = this.#live(keyString(key));
    if (!row || row.info.holder !== holder) throw new LeaseError("ErrInvalid");
    row.info.expiryMs = Math.max(row.info.expiryMs, this.#now() + durationMs);
    return { term: row.info.term };
  }

  async revokeLease(key: LeaseKey, holder: string, signal?: AbortSignal): Promise<void> {
    checkSignal(signal);
    const id = keyString(key);
    const row = this.#live(id);
    if (!row || row.info.holder !== holder) throw new LeaseError("ErrInvalid");
    this.#leases.delete(id);
  }

  async leases(filter?: LeaseKey, signal?: AbortSignal): Promise<LeaseEntry[]> {
    checkSignal(signal);
    if (filter) {
      const row = this.#live(keyString(filter));
      return row ? [copy(row)] : [];
    }
    return [...this.#leases.keys()].flatMap((id) => {
      const row = this.#live(id);
      return row ? [copy(row)] : [];
    });
  }

  async leaseGroup(namespace: string, modelUUID: string, signal?: AbortSignal): Promise<LeaseEntry[]> {
    const all = await this.leases(undefined, signal);
    return all.filter((e) => e.key.namespace === namespace && e.key.modelUUID === modelUUID);
  }

  async pinLease(key: LeaseKey, entity: string, signal?: AbortSignal): Promise<void> {
    checkSignal(signal);
    const id = keyString(key);
    const pins = this.#pins.get(id) ?? { key: { ...key }, entities: new Set<string>() };
    this.#pins.set(id, pins);
    pins.entities.add(entity);
  }

  async unpinLease(key: LeaseKey, entity: string, signal?: AbortSignal): Promise<void> {
    checkSignal(signal);
    const id = keyString(key);
    const pins = this.#pins.get(id);
    pins?.entities.delete(entity);
    if (pins?.entities.size === 0) this.#pins.delete(id);
  }

  async pinned(signal?: AbortSignal): Promise<PinEntry[]> {
    checkSignal(signal);
    return [...this.#pins.values()].map((p) => ({ key: { ...p.key }, entities: [...p.entities].sort() }));
  }

  async expireLeases(signal?: AbortSignal): Promise<void> {
    checkSignal(signal);
    for (const id of [...this.#leases.keys()]) this.#live(id);
  }

  /** The row if its lease is live (unexpired, or pinned); an expired unpinned row is deleted on sight. */
  #live(id: string): Row | undefined {
    const row = this.#leases.get(id);
    if (!row) return undefined;
    if (this.#now() < row.info.expiryMs || this.#pins.has(id)) return row;
    this.#leases.delete(id);
    return undefined;
  }
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new LeaseError("ErrAborted");
}

function copy(row: Row): LeaseEntry {
  return { key: { ...row.key }, info: { ...row.info } };
}
