import { RelationHooksError } from "./errors";
import { applicationChangedHook, HookKind, unitHook } from "./hook";
import type { State } from "./state";
import type { HookInfo, HookSource, RelationUnitsChange, Version } from "./types";

type UnitPending = "none" | "joined" | "changed" | "departed";

interface UnitInfo {
  /** Latest version seen (not necessarily delivered). */
  version: Version;
  pending: UnitPending;
  /** A pending departed that replaced a pending changed: a return with the same version restores it. */
  replacedChanged: boolean;
}

interface AppInfo {
  version: Version;
  pending: boolean;
}

// One FIFO holds both units and applications; the prefix keeps their names apart.
type QueueKey = `unit:${string}` | `app:${string}`;

/**
 * The hook source of an alive relation (Juju's generation A `liveSource` / `AliveHookQueue`, with Concord's
 * two corrections; spec section 3). It aggregates RelationUnitsChange events into at most one pending hook
 * per unit and application, delivered in arrival order, and forces relation-changed right after
 * relation-joined.
 */
export class LiveHookSource implements HookSource {
  readonly #relationId: number;
  readonly #units = new Map<string, UnitInfo>();
  readonly #apps = new Map<string, AppInfo>();
  // A Map keeps insertion order and gives O(1) delete: it is the FIFO queue; values are unused.
  readonly #queue = new Map<QueueKey, true>();
  #changedPending: string;
  #started = false;

  /** Builds the source from the committed state of the relation (spec section 3.2). */
  constructor(state: State) {
    this.#relationId = state.relationId;
    for (const [unit, version] of state.members ?? []) {
      this.#units.set(unit, { version, pending: "none", replacedChanged: false });
    }
    for (const [app, version] of state.applicationMembers) this.#apps.set(app, { version, pending: false });
    this.#changedPending = state.changedPending;
  }

  /** Feeds one event; the first is the baseline and must not list departed units. */
  update(change: RelationUnitsChange): void {
    if (!this.#started) {
      if (change.departed.length > 0) {
        throw new RelationHooksError(
          "NotValid",
          `hook source watcher sent bad event: ${JSON.stringify(change)}`,
        );
      }
      this.#started = true;
      const missing = [...this.#units.keys()].filter((u) => !Object.hasOwn(change.changed, u)).sort();
      this.#process({ changed: {}, appChanged: {}, departed: missing });
    }
    this.#process(change);
  }

  /** True before the baseline, or when nothing is pending. */
  empty(): boolean {
    return !this.#started || (this.#queue.size === 0 && this.#changedPending === "");
  }

  /** The hook to deliver now. */
  next(): HookInfo {
    if (this.empty()) throw new Error("LiveHookSource.next called while empty");
    if (this.#changedPending !== "") {
      const version = this.#units.get(this.#changedPending)?.version ?? 0;
      return unitHook(HookKind.RelationChanged, this.#relationId, this.#changedPending, version);
    }
    const key = this.#head();
    if (key.startsWith("app:")) {
      const app = key.slice(4);
      return applicationChangedHook(this.#relationId, app, this.#apps.get(app)!.version);
    }
    const unit = key.slice(5);
    const info = this.#units.get(unit)!;
    const kind = {
      joined: HookKind.RelationJoined,
      changed: HookKind.RelationChanged,
      departed: HookKind.RelationDeparted,
      none: undefined,
    }[info.pending];
    if (kind === undefined) throw new Error(`LiveHookSource: queued unit ${unit} has nothing pending`);
    return unitHook(kind, this.#relationId, unit, info.version);
  }

  /** Takes the hook returned by `next()`. */
  pop(): void {
    if (this.empty()) throw new Error("LiveHookSource.pop called while empty");
    if (this.#changedPending !== "") {
      const unit = this.#changedPending;
      this.#changedPending = "";
      const info = this.#units.get(unit);
      // The changed just delivered carries the latest version, so a queued changed is redundant; a queued
      // departed stays (changed, then departed).
      if (info?.pending === "changed") this.#settle(unit, info);
      return;
    }
    const key = this.#head();
    this.#queue.delete(key);
    if (key.startsWith("app:")) {
      this.#apps.get(key.slice(4))!.pending = false;
      return;
    }
    const unit = key.slice(5);
    const info = this.#units.get(unit)!;
    if (info.pending === "joined") this.#changedPending = unit;
    if (info.pending === "departed") this.#units.delete(unit);
    info.pending = "none";
    info.replacedChanged = false;
  }

  #head(): QueueKey {
    const first = this.#queue.keys().next();
    if (first.done) throw new Error("LiveHookSource: queue is empty");
    return first.value;
  }

  #process(change: RelationUnitsChange): void {
    for (const app of Object.keys(change.appChanged).sort()) this.#appChanged(app, change.appChanged[app]!);
    for (const unit of Object.keys(change.changed).sort())
      this.#unitChanged(unit, change.changed[unit]!.version);
    for (const unit of change.departed) this.#unitDeparted(unit);
  }

  #appChanged(app: string, version: Version): void {
    // An application not yet known counts as version 0 (Juju's compatibility rule).
    const info = this.#apps.get(app) ?? { version: 0, pending: false };
    this.#apps.set(app, info);
    if (version !== info.version && !info.pending) {
      info.pending = true;
      this.#queue.set(`app:${app}`, true);
    }
    info.version = version;
  }

  #unitChanged(unit: string, version: Version): void {
    const info = this.#units.get(unit);
    if (info === undefined) {
      this.#units.set(unit, { version, pending: "joined", replacedChanged: false });
      this.#queue.set(`unit:${unit}`, true);
      return;
    }
    if (info.pending !== "joined") {
      if (version !== info.version) {
        if (info.pending === "none") this.#queue.set(`unit:${unit}`, true);
        info.pending = "changed";
        info.replacedChanged = false;
      } else if (info.pending === "departed") {
        // The departure is undone; an undelivered changed it replaced comes back (correction 2).
        if (info.replacedChanged) info.pending = "changed";
        else this.#settle(unit, info);
        info.replacedChanged = false;
      }
    }
    info.version = version;
  }

  #unitDeparted(unit: string): void {
    const info = this.#units.get(unit);
    if (info === undefined) return;
    switch (info.pending) {
      case "joined":
        // Forget the unit entirely so that a return is a fresh join (correction 1).
        this.#queue.delete(`unit:${unit}`);
        this.#units.delete(unit);
        return;
      case "none":
        info.pending = "departed";
        this.#queue.set(`unit:${unit}`, true);
        return;
      case "changed":
        info.pending = "departed";
        info.replacedChanged = true;
        return;
      case "departed":
        return;
    }
  }

  #settle(unit: string, info: UnitInfo): void {
    info.pending = "none";
    info.replacedChanged = false;
    this.#queue.delete(`unit:${unit}`);
  }
}
