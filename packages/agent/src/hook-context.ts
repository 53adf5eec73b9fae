// What one hook execution sees through its hook tools (Juju's runner/context): the relations, settings read
// once and cached, relation-set writes buffered until the hook succeeds, and leadership.
import type { RelationApi } from "./types";

/** The leadership part of a hook context (HookLeadershipContext of @concord/leadership-tracker fits). */
export interface ContextLeadership {
  isLeader(): Promise<boolean>;
  term(): number | undefined;
  leaderSettings(): Promise<Record<string, string>>;
  writeLeaderSettings(settings: Record<string, string>): Promise<void>;
}

/** One relation as a hook context knows it. */
export interface ContextRelation {
  id: number;
  uuid: string;
  /** The local endpoint name. */
  endpoint: string;
  /** The relation's other application (the local one for a peer relation). */
  remoteApplication: string;
  /** The remote units this hook sees as members, sorted. */
  members: string[];
}

/** Everything a HookContext is built from. */
export interface HookContextOptions {
  /** JUJU_CONTEXT_ID: the hook tools name their context with it. */
  id: string;
  unitName: string;
  api: RelationApi;
  /** The unit's relations, by id. */
  relations: ReadonlyMap<number, ContextRelation>;
  /** The relation of a relation hook. */
  relationId?: number;
  /** The remote unit of a relation hook, if any. */
  remoteUnit?: string;
  /** The remote application of a relation hook, if any. */
  remoteApplication?: string;
  leadership?: ContextLeadership;
  /** Where juju-log writes. */
  log?: (level: string, message: string) => void;
}

/** The error a hook tool reports (printed as `ERROR <message>`, exit status 1, or 2 for bad usage). */
export class ToolError extends Error {
  override readonly name = "ToolError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

interface PendingWrite {
  unit: Record<string, string>;
  application: Record<string, string> | undefined;
}

/**
 * The context of one hook execution. Reads are cached for the hook's whole run so it sees one consistent
 * view; relation-set writes are kept here and written by `flush()` only once the hook succeeded (Juju
 * commits hook-tool changes only then).
 */
export class HookContext {
  readonly id: string;
  readonly unitName: string;
  readonly relationId: number | undefined;
  readonly remoteUnit: string;
  readonly remoteApplication: string;
  readonly leadership: ContextLeadership | undefined;
  readonly #options: HookContextOptions;
  readonly #cache = new Map<string, Record<string, string>>();
  readonly #pending = new Map<number, PendingWrite>();

  constructor(options: HookContextOptions) {
    this.#options = options;
    this.id = options.id;
    this.unitName = options.unitName;
    this.relationId = options.relationId;
    this.remoteUnit = options.remoteUnit ?? "";
    this.remoteApplication = options.remoteApplication ?? "";
    this.leadership = options.leadership;
  }

  /** The unit's relations, sorted by id. */
  relations(): ContextRelation[] {
    return [...this.#options.relations.values()].sort((a, b) => a.id - b.id);
  }

  /** The relation `id`, or the hook's own relation when `id` is undefined. */
  relation(id?: number): ContextRelation {
    const key = id ?? this.relationId;
    if (key === undefined) throw new ToolError("no relation id specified", 2);
    const rel = this.#options.relations.get(key);
    if (!rel) throw new ToolError(`invalid value "${key}" for option -r: relation not found`, 2);
    return rel;
  }

  /** A unit's settings; the local unit's include this hook's pending relation-set writes. */
  async unitSettings(relationId: number, unit: string): Promise<Record<string, string>> {
    const rel = this.relation(relationId);
    const settings = await this.#read(`u:${rel.id}:${unit}`, () =>
      this.#options.api.unitSettings(rel.uuid, unit),
    );
    if (unit !== this.unitName) return { ...settings };
    return applyWrite(settings, this.#pending.get(rel.id)?.unit);
  }

  /** An application's settings; the local application's include pending writes. */
  async applicationSettings(relationId: number, application: string): Promise<Record<string, string>> {
    const rel = this.relation(relationId);
    const settings = await this.#read(`a:${rel.id}:${application}`, () =>
      this.#options.api.applicationSettings(rel.uuid, application),
    );
    if (application !== applicationOf(this.unitName)) return { ...settings };
    return applyWrite(settings, this.#pending.get(rel.id)?.application);
  }

  /** relation-set: buffers `settings` (empty value = delete) for the unit or, with `application`, its application. */
  setSettings(relationId: number, settings: Record<string, string>, application = false): void {
    const rel = this.relation(relationId);
    let pending = this.#pending.get(rel.id);
    if (!pending) {
      pending = { unit: {}, application: undefined };
      this.#pending.set(rel.id, pending);
    }
    if (application) pending.application = { ...pending.application, ...settings };
    else Object.assign(pending.unit, settings);
  }

  /** Whether relation-set was used. */
  hasPendingWrites(): boolean {
    return this.#pending.size > 0;
  }

  /** Writes every buffered relation-set; called once the hook succeeded, before its state is committed. */
  async flush(): Promise<void> {
    for (const [id, write] of [...this.#pending].sort(([a], [b]) => a - b)) {
      const rel = this.#options.relations.get(id);
      // A relation that went away during the hook has nothing left to write to.
      if (!rel) continue;
      if (write.application === undefined) {
        await this.#options.api.writeSettings(rel.uuid, { unit: write.unit });
      } else {
        const term = this.leadership?.term();
        await this.#options.api.writeSettings(rel.uuid, {
          unit: write.unit,
          application: write.application,
          ...(term !== undefined ? { leadershipTerm: term } : {}),
        });
      }
      this.#pending.delete(id);
    }
  }

  /** juju-log. */
  log(level: string, message: string): void {
    this.#options.log?.(level, message);
  }

  async #read(key: string, load: () => Promise<Record<string, string>>): Promise<Record<string, string>> {
    let settings = this.#cache.get(key);
    if (!settings) {
      settings = await load();
      this.#cache.set(key, settings);
    }
    return settings;
  }
}

function applyWrite(
  settings: Record<string, string>,
  write: Record<string, string> | undefined,
): Record<string, string> {
  const out = { ...settings };
  for (const [k, v] of Object.entries(write ?? {})) {
    if (v === "") delete out[k];
    else out[k] = v;
  }
  return out;
}

function applicationOf(unit: string): string {
  const i = unit.indexOf("/");
  return i < 0 ? unit : unit.slice(0, i);
}
