import { equals } from "@bufbuild/protobuf";
import { type Entity, EntitySchema } from "@concord/proto/events/v1/events";
import { type Change, keyString } from "./entity";
import { inScope } from "./scope";
import type { Delta, EntityKey, Scope } from "./types";

/** Whoever holds entities of the store: a watcher, as an opaque token. */
export type Viewer = object;

interface Entry {
  readonly key: EntityKey;
  readonly ks: string;
  value: Entity;
  /** Sequence of the last change (for a tombstone, of the removal). */
  revision: number;
  /** Position of the last change within its event, to keep an event's order (spec §2.2). */
  index: number;
  removed: boolean;
  removedAt: number;
  readonly viewers: Set<Viewer>;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** A creation or removal, kept for the retained window so that resumes know what existed at R (spec §11.3). */
interface ExistenceRecord {
  readonly seq: number;
  readonly index: number;
  readonly key: EntityKey;
  readonly ks: string;
  readonly action: "create" | "remove";
  /** For a removal: the entity's last value, which removal deltas carry. */
  readonly value?: Entity;
}

interface PendingExpiry {
  readonly entry: Entry;
  readonly revision: number;
  readonly removedAt: number;
}

interface OrderedDelta extends Delta {
  index: number;
}

/** An entity loaded from a snapshot, with the revision it takes (spec §2.3). */
export interface LoadedEntity {
  key: EntityKey;
  entity: Entity;
  revision: number;
}

/**
 * A replica's store (spec §4): one entry per entity, ordered by last change, with the viewer sets that decide who
 * is told of a removal. Viewer sets rather than Juju's reference counts, so a re-added entity can never count one
 * watcher twice. Values are shared, never copied: nobody may mutate an entity handed to or taken from the store.
 */
export class Store {
  readonly #entries = new Map<string, Entry>();
  readonly #held = new Map<Viewer, Set<Entry>>();
  #head: Entry | undefined;
  #tail: Entry | undefined;
  // Both queues are in increasing order (removal time, sequence), so they are consumed from the front.
  #expiry: PendingExpiry[] = [];
  #expiryHead = 0;
  #history: ExistenceRecord[] = [];
  #historyHead = 0;

  /** Entries, tombstones included (`store-size`). */
  get size(): number {
    return this.#entries.size;
  }

  /** True when the entity has a live entry (not a tombstone). */
  isLive(key: EntityKey): boolean {
    const e = this.#entries.get(keyString(key));
    return e !== undefined && !e.removed;
  }

  /** Fills an empty store from a snapshot; entities with equal revisions keep the given order. */
  load(entities: LoadedEntity[]): void {
    const sorted = entities.map((e, i) => ({ ...e, i })).sort((a, b) => a.revision - b.revision || a.i - b.i);
    for (const e of sorted) {
      const ks = keyString(e.key);
      const existing = this.#entries.get(ks);
      if (existing) this.#unlink(existing);
      const entry = this.#newEntry(e.key, ks, e.entity, e.revision, e.i);
      this.#entries.set(ks, entry);
      this.#append(entry);
    }
  }

  /** Applies the changes of one event at sequence `seq` (spec §4.3, §4.4); true when anything changed. */
  apply(seq: number, changes: Change[], now: number): boolean {
    let changed = false;
    changes.forEach((change, index) => {
      const ks = keyString(change.key);
      const entry = this.#entries.get(ks);
      if (change.type === "upsert") {
        if (!entry) {
          const created = this.#newEntry(change.key, ks, change.entity, seq, index);
          this.#entries.set(ks, created);
          this.#append(created);
          this.#record({ seq, index, key: change.key, ks, action: "create" });
        } else if (entry.removed) {
          // A re-add is a fresh creation even when the value equals the last one (spec §1.2); viewers stay.
          entry.removed = false;
          this.#touch(entry, change.entity, seq, index);
          this.#record({ seq, index, key: change.key, ks, action: "create" });
        } else if (equals(EntitySchema, entry.value, change.entity)) {
          return;
        } else {
          this.#touch(entry, change.entity, seq, index);
        }
        changed = true;
        return;
      }
      if (!entry || entry.removed) return;
      this.#record({ seq, index, key: change.key, ks, action: "remove", value: entry.value });
      changed = true;
      if (entry.viewers.size === 0) {
        this.#delete(entry);
        return;
      }
      entry.removed = true;
      entry.removedAt = now;
      this.#touch(entry, entry.value, seq, index);
      this.#expiry.push({ entry, revision: seq, removedAt: now });
    });
    return changed;
  }

  /** The first result of a watch without a revision: every live entity in scope; the viewer then holds them. */
  snapshot(scope: Scope, viewer: Viewer): Delta[] {
    const deltas: Delta[] = [];
    for (let e = this.#head; e; e = e.next) {
      if (e.removed || !inScope(scope, e.key)) continue;
      deltas.push({ removed: false, revision: e.revision, entity: e.value });
      this.#view(e, viewer);
    }
    return deltas;
  }

  /** A later result for a viewer at `position` (spec §4.5); updates the viewer sets for what it returns. */
  changesSince(scope: Scope, position: number, viewer: Viewer): Delta[] {
    const found: Entry[] = [];
    for (let e = this.#tail; e && e.revision > position; e = e.prev) {
      if (!inScope(scope, e.key)) continue;
      if (!e.removed || e.viewers.has(viewer)) found.push(e);
    }
    found.reverse();
    const deltas = found.map((e) => ({ removed: e.removed, revision: e.revision, entity: e.value }));
    for (const e of found) {
      if (!e.removed) {
        this.#view(e, viewer);
        continue;
      }
      this.#unview(e, viewer);
      if (e.viewers.size === 0) this.#delete(e);
    }
    return deltas;
  }

  /**
   * The first result of a watch since revision `since` (spec §11.3): changes of entities live now, and removals of
   * entities that existed at `since` and are gone now, in revision order. The viewer then holds every live
   * entity in scope. Removals older than the history (before the store was loaded) are not known.
   */
  resume(scope: Scope, since: number, viewer: Viewer): Delta[] {
    const deltas: OrderedDelta[] = [];
    for (let e = this.#tail; e && e.revision > since; e = e.prev) {
      if (e.removed || !inScope(scope, e.key)) continue;
      deltas.push({ removed: false, revision: e.revision, entity: e.value, index: e.index });
    }
    const firstAction = new Map<string, ExistenceRecord["action"]>();
    const lastRemoval = new Map<string, ExistenceRecord>();
    for (let i = this.#firstHistoryAfter(since); i < this.#history.length; i++) {
      const r = this.#history[i]!;
      if (!inScope(scope, r.key)) continue;
      if (!firstAction.has(r.ks)) firstAction.set(r.ks, r.action);
      if (r.action === "remove") lastRemoval.set(r.ks, r);
    }
    for (const [ks, r] of lastRemoval) {
      const now = this.#entries.get(ks);
      // A first record that is a creation means the entity did not exist at `since`: the client never had it.
      if ((now && !now.removed) || firstAction.get(ks) !== "remove") continue;
      deltas.push({ removed: true, revision: r.seq, entity: r.value!, index: r.index });
    }
    deltas.sort((a, b) => a.revision - b.revision || a.index - b.index);
    for (let e = this.#head; e; e = e.next) {
      if (!e.removed && inScope(scope, e.key)) this.#view(e, viewer);
    }
    return deltas.map(({ removed, revision, entity }) => ({ removed, revision, entity }));
  }

  /** The viewer stops being a viewer of anything; tombstones left without viewers are deleted (spec §4.6). */
  release(viewer: Viewer): void {
    const held = this.#held.get(viewer);
    if (!held) return;
    this.#held.delete(viewer);
    for (const e of held) {
      e.viewers.delete(viewer);
      if (e.removed && e.viewers.size === 0) this.#delete(e);
    }
  }

  /** Deletes the tombstones removed at or before `cutoff` (spec §11.7); returns their viewers, to be expired. */
  expire(cutoff: number): Set<Viewer> {
    const expired = new Set<Viewer>();
    for (;;) {
      const p = this.#liveExpiryHead();
      if (!p || p.removedAt > cutoff) break;
      this.#expiryHead++;
      for (const v of p.entry.viewers) {
        expired.add(v);
        this.#held.get(v)?.delete(p.entry);
      }
      p.entry.viewers.clear();
      this.#delete(p.entry);
    }
    this.#compactExpiry();
    return expired;
  }

  /** The removal time of the oldest tombstone, if any. */
  oldestRemovalTime(): number | undefined {
    return this.#liveExpiryHead()?.removedAt;
  }

  /** Forgets the existence history up to and including `through` (no resume can start there any more). */
  pruneHistory(through: number): void {
    while (this.#historyHead < this.#history.length && this.#history[this.#historyHead]!.seq <= through) {
      this.#historyHead++;
    }
    if (this.#historyHead > 1024 && this.#historyHead * 2 > this.#history.length) {
      this.#history = this.#history.slice(this.#historyHead);
      this.#historyHead = 0;
    }
  }

  /** The number of existence records kept for resumes (for tests and diagnostics). */
  get historyLength(): number {
    return this.#history.length - this.#historyHead;
  }

  #liveExpiryHead(): PendingExpiry | undefined {
    while (this.#expiryHead < this.#expiry.length) {
      const p = this.#expiry[this.#expiryHead]!;
      // Skip tombstones already deleted or revived since they were queued.
      if (this.#entries.get(p.entry.ks) === p.entry && p.entry.removed && p.entry.revision === p.revision)
        return p;
      this.#expiryHead++;
    }
    this.#compactExpiry();
    return undefined;
  }

  #compactExpiry(): void {
    if (this.#expiryHead > 1024 && this.#expiryHead * 2 > this.#expiry.length) {
      this.#expiry = this.#expiry.slice(this.#expiryHead);
      this.#expiryHead = 0;
    }
  }

  #firstHistoryAfter(since: number): number {
    let lo = this.#historyHead;
    let hi = this.#history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#history[mid]!.seq <= since) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #record(r: ExistenceRecord): void {
    this.#history.push(r);
  }

  #newEntry(key: EntityKey, ks: string, value: Entity, revision: number, index: number): Entry {
    return {
      key,
      ks,
      value,
      revision,
      index,
      removed: false,
      removedAt: 0,
      viewers: new Set(),
      prev: undefined,
      next: undefined,
    };
  }

  #touch(e: Entry, value: Entity, revision: number, index: number): void {
    e.value = value;
    e.revision = revision;
    e.index = index;
    this.#unlink(e);
    this.#append(e);
  }

  #view(e: Entry, viewer: Viewer): void {
    e.viewers.add(viewer);
    let held = this.#held.get(viewer);
    if (!held) {
      held = new Set();
      this.#held.set(viewer, held);
    }
    held.add(e);
  }

  #unview(e: Entry, viewer: Viewer): void {
    e.viewers.delete(viewer);
    this.#held.get(viewer)?.delete(e);
  }

  #delete(e: Entry): void {
    this.#entries.delete(e.ks);
    this.#unlink(e);
  }

  #append(e: Entry): void {
    e.prev = this.#tail;
    e.next = undefined;
    if (this.#tail) this.#tail.next = e;
    else this.#head = e;
    this.#tail = e;
  }

  #unlink(e: Entry): void {
    if (e.prev) e.prev.next = e.next;
    else if (this.#head === e) this.#head = e.next;
    if (e.next) e.next.prev = e.prev;
    else if (this.#tail === e) this.#tail = e.prev;
    e.prev = undefined;
    e.next = undefined;
  }
}
