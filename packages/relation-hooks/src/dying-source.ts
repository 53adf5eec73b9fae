import { HookKind, relationHook, unitHook } from "./hook";
import type { State } from "./state";
import type { HookInfo, HookSource, RelationUnitsChange } from "./types";

/** Options of a dying source. */
export interface DyingHookSourceOptions {
  /** The relation's other application (the local one for a peer relation), for relation-broken. */
  remoteApplication?: string;
  /** Set to the local unit's name when the local unit or its application is no longer alive (Juju 2.8+). */
  localDepartingUnit?: string;
}

/**
 * The hook source of a dying relation or unit (Juju's `dyingSource` / `DyingHookQueue`; spec section 4): a
 * fixed list built from the committed state. The pending changed (if any), a departed for every member in
 * byte-wise order with its committed version, then relation-broken. Change events are ignored.
 */
export class DyingHookSource implements HookSource {
  readonly #hooks: HookInfo[] = [];

  /** Builds the list from `state`; a state already removed yields no hooks. */
  constructor(state: State, options: DyingHookSourceOptions = {}) {
    const members = state.members;
    if (members === null) return;
    const id = state.relationId;
    if (state.changedPending !== "") {
      const version = members.get(state.changedPending) ?? 0;
      this.#hooks.push(unitHook(HookKind.RelationChanged, id, state.changedPending, version));
    }
    for (const unit of [...members.keys()].sort()) {
      const departing = options.localDepartingUnit ?? unit;
      this.#hooks.push(unitHook(HookKind.RelationDeparted, id, unit, members.get(unit)!, departing));
    }
    this.#hooks.push(relationHook(HookKind.RelationBroken, id, options.remoteApplication ?? ""));
  }

  /** Ignored: a dying relation no longer follows membership. */
  update(_change: RelationUnitsChange): void {}

  /** True once every hook was taken. */
  empty(): boolean {
    return this.#hooks.length === 0;
  }

  /** The hook to deliver now. */
  next(): HookInfo {
    const hook = this.#hooks[0];
    if (hook === undefined) throw new Error("DyingHookSource.next called while empty");
    return { ...hook };
  }

  /** Takes the hook returned by `next()`. */
  pop(): void {
    if (this.#hooks.shift() === undefined) throw new Error("DyingHookSource.pop called while empty");
  }
}
