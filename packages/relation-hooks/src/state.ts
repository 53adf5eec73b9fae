import { RelationHooksError } from "./errors";
import { HookKind } from "./hook";
import type { HookInfo, StateData, Version } from "./types";

/**
 * The committed state of one relation for the local unit: which remote units have joined (with the version
 * of their last committed hook), application versions, and whether a relation-changed must run next.
 */
export class State {
  /** Remote unit → last committed version; null once the relation state is removed (broken). */
  members: Map<string, Version> | null;
  /** Remote application → last committed application-settings version. */
  readonly applicationMembers: Map<string, Version>;
  /** The unit whose relation-changed must be the next hook, or "". */
  changedPending: string;

  /** Builds a state for `relationId`, empty unless `data` says otherwise. */
  constructor(
    readonly relationId: number,
    data: Omit<StateData, "relationId"> = { members: {} },
  ) {
    this.members = data.members === null ? null : new Map(Object.entries(data.members));
    this.applicationMembers = new Map(Object.entries(data.applicationMembers ?? {}));
    this.changedPending = data.changedPending ?? "";
  }

  /** Builds a state from its plain-data form. */
  static from(data: StateData): State {
    return new State(data.relationId, data);
  }

  /** An independent copy. */
  clone(): State {
    return State.from(this.toData());
  }

  /** The plain-data form (maps as sorted records). */
  toData(): StateData {
    return {
      relationId: this.relationId,
      members: this.members === null ? null : sortedRecord(this.members),
      applicationMembers: sortedRecord(this.applicationMembers),
      changedPending: this.changedPending,
    };
  }

  /**
   * Checks that `hook` may run now (spec section 7). Throws a NotValid error reading
   * `inappropriate "<kind>" for "<remoteUnit>": <reason>`.
   */
  validate(hook: HookInfo): void {
    const reason = this.#invalidReason(hook);
    if (reason !== undefined) {
      throw new RelationHooksError(
        "NotValid",
        `inappropriate ${JSON.stringify(hook.kind)} for ${JSON.stringify(hook.remoteUnit)}: ${reason}`,
      );
    }
  }

  #invalidReason(hook: HookInfo): string | undefined {
    if (hook.relationId !== this.relationId) {
      return `expected relation ${this.relationId}, got relation ${hook.relationId}`;
    }
    if (this.members === null) return "relation is broken and cannot be changed further";
    if (hook.kind === HookKind.RelationBroken) {
      return this.members.size === 0 ? undefined : `cannot run "relation-broken" while units still present`;
    }
    if (this.changedPending !== "") {
      const ok = hook.kind === HookKind.RelationChanged && hook.remoteUnit === this.changedPending;
      return ok ? undefined : `expected "relation-changed" for ${JSON.stringify(this.changedPending)}`;
    }
    // Juju has no application-level checks; relation-created also lands here.
    if (hook.remoteUnit === "") return undefined;
    const member = this.members.has(hook.remoteUnit);
    if (hook.kind === HookKind.RelationJoined) return member ? "unit already joined" : undefined;
    return member ? undefined : "unit has not joined";
  }

  /**
   * Records `hook` as committed (spec section 1.4) without validating it. Idempotent. Broken removes the
   * state (`members` becomes null); created changes nothing.
   */
  apply(hook: HookInfo): void {
    switch (hook.kind) {
      case HookKind.RelationCreated:
        return;
      case HookKind.RelationBroken:
        this.members = null;
        this.applicationMembers.clear();
        this.changedPending = "";
        return;
      case HookKind.RelationDeparted:
        if (hook.remoteUnit === "") this.applicationMembers.delete(hook.remoteApplication);
        else this.members?.delete(hook.remoteUnit);
        return;
      case HookKind.RelationJoined:
      case HookKind.RelationChanged:
        if (this.members === null) {
          throw new RelationHooksError(
            "NotValid",
            `cannot record ${JSON.stringify(hook.kind)} for ${JSON.stringify(hook.remoteUnit)}: relation state removed`,
          );
        }
        if (hook.remoteUnit === "") this.applicationMembers.set(hook.remoteApplication, hook.changeVersion);
        else this.members.set(hook.remoteUnit, hook.changeVersion);
        this.changedPending = hook.kind === HookKind.RelationJoined ? hook.remoteUnit : "";
        return;
    }
  }
}

function sortedRecord(m: ReadonlyMap<string, Version>): Record<string, Version> {
  const out: Record<string, Version> = {};
  for (const k of [...m.keys()].sort()) out[k] = m.get(k)!;
  return out;
}
