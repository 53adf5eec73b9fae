// An in-memory relation domain for the agent's tests: applications, relations, scope and settings with
// Juju's watcher shapes (WatchUnitRelations, WatchRelationUnits). Not part of the public API.
import type { RelationUnitsChange } from "@concord/relation-hooks";
import type {
  Life,
  RelationApi,
  RelationEndpointInfo,
  RelationInfo,
  SettingsWrite,
  UnitInfo,
  UnitRelationsChange,
} from "../types";

interface Settings {
  values: Record<string, string>;
  version: number;
}

interface FakeRelation {
  uuid: string;
  id: number;
  life: Life;
  endpoints: RelationEndpointInfo[];
  scope: Set<string>;
  unitSettings: Map<string, Settings>;
  appSettings: Map<string, Settings>;
}

/** An error with a Juju kind, like ConcordError. */
export class FakeError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

const appOf = (unit: string) => unit.slice(0, unit.indexOf("/"));

/** The relation domain of one model, in memory; every change notifies the open watchers. */
export class FakeModel {
  readonly #apps = new Map<string, RelationEndpointInfo[]>();
  readonly #relations = new Map<string, FakeRelation>();
  readonly #listeners = new Set<() => void>();
  /** Units not alive; every other unit name is an alive unit. */
  readonly #unitLife = new Map<string, "dying" | "removed">();
  #nextId = 0;
  #version = 0;
  /** Every settings write, in order (for assertions). */
  readonly writes: { unit: string; relationId: number; write: SettingsWrite }[] = [];

  /** Adds an application with its endpoints. */
  deploy(app: string, endpoints: { name: string; role: RelationEndpointInfo["role"] }[]): void {
    this.#apps.set(
      app,
      endpoints.map((e) => ({ application: app, ...e })),
    );
  }

  /** Relates `a:ep` with `b:ep` (or a peer endpoint with itself) and returns the relation. */
  relate(first: string, second?: string): RelationInfo {
    const eps = [first, second].filter((s): s is string => s !== undefined).map((s) => this.#endpoint(s));
    const uuid = `rel-${this.#nextId}-uuid`;
    const rel: FakeRelation = {
      uuid,
      id: this.#nextId++,
      life: "alive",
      endpoints: eps,
      scope: new Set(),
      unitSettings: new Map(),
      appSettings: new Map(eps.map((e) => [e.application, { values: {}, version: 0 }])),
    };
    this.#relations.set(uuid, rel);
    this.#notify();
    return this.#info(rel);
  }

  /** Alive → dying; removed at once when nobody is in scope. */
  removeRelation(uuid: string): void {
    const rel = this.#get(uuid);
    rel.life = "dying";
    if (rel.scope.size === 0) this.#relations.delete(uuid);
    this.#notify();
  }

  /** Alive → dying, as RemoveUnit does. */
  removeUnit(unit: string): void {
    if (this.#unitLife.has(unit)) return;
    this.#unitLife.set(unit, "dying");
    this.#notify();
  }

  /** The unit's life; "removed" once EnsureUnitDead succeeded. */
  unitLife(unit: string): Life | "removed" {
    return this.#unitLife.get(unit) ?? "alive";
  }

  /** The relation `uuid`, if it still exists. */
  relation(uuid: string): RelationInfo | undefined {
    const rel = this.#relations.get(uuid);
    return rel ? this.#info(rel) : undefined;
  }

  /** Sets a unit's settings as an operator would (bumps its version). */
  setUnitSettings(uuid: string, unit: string, values: Record<string, string>): void {
    this.#write(this.#get(uuid), unit, { unit: values });
  }

  /** The unit's current settings in the relation. */
  unitSettings(uuid: string, unit: string): Record<string, string> {
    return { ...this.#get(uuid).unitSettings.get(unit)?.values };
  }

  /** The RelationApi of `unit`'s agent. */
  api(unit: string): RelationApi {
    const model = this;
    return {
      watchUnit: (signal) => model.#watchUnit(unit, signal),
      async ensureUnitDead() {
        const life = model.#unitLife.get(unit);
        if (life === "removed") return;
        if (life === undefined) throw new FakeError("UnitNotAlive", `unit ${unit} is still alive`);
        const scopes = [...model.#relations.values()].filter((r) => r.scope.has(unit)).length;
        if (scopes > 0)
          throw new FakeError("UnitsStillInScope", `unit ${unit} is still in ${scopes} scope(s)`);
        model.#unitLife.set(unit, "removed");
        model.#notify();
      },
      watchUnitRelations: (signal) => model.#watchUnitRelations(unit, signal),
      watchRelationUnits: (uuid, signal) => model.#watchRelationUnits(uuid, unit, signal),
      async enterScope(uuid) {
        const rel = model.#get(uuid);
        if (rel.life !== "alive") throw new FakeError("CannotEnterScope", "relation is not alive");
        rel.scope.add(unit);
        if (!rel.unitSettings.has(unit))
          rel.unitSettings.set(unit, { values: {}, version: ++model.#version });
        model.#notify();
      },
      async leaveScope(uuid) {
        const rel = model.#relations.get(uuid);
        if (!rel) return;
        rel.scope.delete(unit);
        if (rel.life !== "alive" && rel.scope.size === 0) model.#relations.delete(uuid);
        model.#notify();
      },
      async unitSettings(uuid, other) {
        return { ...model.#get(uuid).unitSettings.get(other)?.values };
      },
      async applicationSettings(uuid, app) {
        return { ...model.#get(uuid).appSettings.get(app)?.values };
      },
      async writeSettings(uuid, write) {
        const rel = model.#get(uuid);
        model.writes.push({ unit, relationId: rel.id, write });
        model.#write(rel, unit, write);
      },
    };
  }

  #write(rel: FakeRelation, unit: string, write: SettingsWrite): void {
    const apply = (s: Settings | undefined, values: Record<string, string>): Settings => {
      const next = { ...s?.values };
      for (const [k, v] of Object.entries(values)) {
        if (v === "") delete next[k];
        else next[k] = v;
      }
      const changed = JSON.stringify(next) !== JSON.stringify(s?.values ?? {});
      return { values: next, version: changed ? ++this.#version : (s?.version ?? 0) };
    };
    if (write.unit) rel.unitSettings.set(unit, apply(rel.unitSettings.get(unit), write.unit));
    if (write.application)
      rel.appSettings.set(appOf(unit), apply(rel.appSettings.get(appOf(unit)), write.application));
    this.#notify();
  }

  #endpoint(spec: string): RelationEndpointInfo {
    const [app, name] = spec.split(":");
    const eps = this.#apps.get(app!);
    const ep = eps?.find((e) => e.name === name);
    if (!ep) throw new FakeError("NotFound", `no endpoint ${spec}`);
    return ep;
  }

  #get(uuid: string): FakeRelation {
    const rel = this.#relations.get(uuid);
    if (!rel) throw new FakeError("RelationNotFound", `relation ${uuid} not found`);
    return rel;
  }

  #info(rel: FakeRelation): RelationInfo {
    return {
      uuid: rel.uuid,
      id: rel.id,
      life: rel.life,
      suspended: false,
      endpoints: rel.endpoints.map((e) => ({ ...e })),
      unitsInScope: [...rel.scope].sort(),
    };
  }

  #notify(): void {
    for (const l of [...this.#listeners]) l();
  }

  /** Yields the snapshot's diff against the last one sent, each time the model changes. */
  async *#watch<T>(
    snapshot: () => T,
    diff: (prev: T | undefined, cur: T) => unknown | undefined,
    signal: AbortSignal,
  ): AsyncGenerator<unknown> {
    let dirty = true;
    let wake: (() => void) | undefined;
    const listener = () => {
      dirty = true;
      wake?.();
    };
    const onAbort = () => wake?.();
    this.#listeners.add(listener);
    signal.addEventListener("abort", onAbort);
    let prev: T | undefined;
    try {
      for (;;) {
        if (signal.aborted) return;
        if (dirty) {
          dirty = false;
          const cur = snapshot();
          const event = diff(prev, cur);
          prev = cur;
          if (event !== undefined) yield event;
          continue;
        }
        await new Promise<void>((r) => {
          wake = r;
        });
        wake = undefined;
      }
    } finally {
      this.#listeners.delete(listener);
      signal.removeEventListener("abort", onAbort);
    }
  }

  #watchUnitRelations(unit: string, signal: AbortSignal): AsyncIterable<UnitRelationsChange> {
    const app = appOf(unit);
    const snapshot = () =>
      new Map(
        [...this.#relations.values()]
          .filter((r) => r.endpoints.some((e) => e.application === app))
          .map((r) => [r.uuid, this.#info(r)] as const),
      );
    return this.#watch(
      snapshot,
      (prev, cur) => {
        const changed = [...cur.values()].filter(
          (r) => prev === undefined || JSON.stringify(prev.get(r.uuid)) !== JSON.stringify(r),
        );
        const removed = prev ? [...prev.keys()].filter((uuid) => !cur.has(uuid)) : [];
        if (prev !== undefined && changed.length === 0 && removed.length === 0) return undefined;
        return { changed, removed };
      },
      signal,
    ) as AsyncIterable<UnitRelationsChange>;
  }

  async *#watchUnit(unit: string, signal: AbortSignal): AsyncIterable<UnitInfo> {
    const changes = this.#watch(
      () => this.unitLife(unit),
      (prev, cur) => (prev === cur ? undefined : cur),
      signal,
    ) as AsyncIterable<Life | "removed">;
    for await (const life of changes) {
      if (life === "removed") return;
      yield { name: unit, life, principal: "" };
    }
  }

  #watchRelationUnits(uuid: string, unit: string, signal: AbortSignal): AsyncIterable<RelationUnitsChange> {
    const app = appOf(unit);
    const rel = this.#get(uuid);
    const peer = rel.endpoints.length === 1;
    const remoteApps = peer ? [app] : rel.endpoints.map((e) => e.application).filter((a) => a !== app);
    const snapshot = () => {
      const units = new Map<string, number>();
      const apps = new Map<string, number>();
      const r = this.#relations.get(uuid);
      if (r) {
        for (const u of r.scope) {
          if (u !== unit && remoteApps.includes(appOf(u))) units.set(u, r.unitSettings.get(u)?.version ?? 0);
        }
        for (const a of remoteApps) apps.set(a, r.appSettings.get(a)?.version ?? 0);
      }
      return { units, apps };
    };
    return this.#watch(
      snapshot,
      (prev, cur) => {
        const changed: Record<string, { version: number }> = {};
        const appChanged: Record<string, number> = {};
        for (const [u, v] of cur.units) if (prev?.units.get(u) !== v) changed[u] = { version: v };
        for (const [a, v] of cur.apps) if (prev?.apps.get(a) !== v) appChanged[a] = v;
        const departed = prev ? [...prev.units.keys()].filter((u) => !cur.units.has(u)).sort() : [];
        if (prev && !Object.keys(changed).length && !Object.keys(appChanged).length && !departed.length)
          return undefined;
        return { changed, appChanged, departed };
      },
      signal,
    ) as AsyncIterable<RelationUnitsChange>;
  }
}
