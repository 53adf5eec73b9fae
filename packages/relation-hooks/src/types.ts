import type { HookKind } from "./hook";

/** A settings version: opaque, compared only with `!==` (it may decrease after a model migration). */
export type Version = number;

/**
 * One relation-units watcher event (Juju's RelationUnitsChange). The first event a live source receives is
 * the baseline: the full membership, with no departed units.
 */
export interface RelationUnitsChange {
  /** Units in scope, each with its latest settings version. */
  changed: Readonly<Record<string, { version: Version }>>;
  /** Latest settings version of each related application. */
  appChanged: Readonly<Record<string, Version>>;
  /** Units earlier reported in scope that have left. */
  departed: readonly string[];
}

/** What a relation hook is about (Juju's hook.Info for relation hooks). */
export interface HookInfo {
  kind: HookKind;
  relationId: number;
  /** The remote unit; "" for broken, created and application-level changed. */
  remoteUnit: string;
  /** The unit's application, the application of an application-level changed, or the other application. */
  remoteApplication: string;
  /** The settings version the hook reflects; 0 for broken and created. */
  changeVersion: Version;
  /** Departed only: the remote unit, or the local unit when it (or its application) is no longer alive. */
  departingUnit?: string;
}

/**
 * A per-relation source of hooks. The agent checks `empty()`, reads `next()` and calls `pop()` when it
 * takes the hook: popping is delivery. It validates, runs and commits that hook before it asks again.
 */
export interface HookSource {
  /** Feeds one watcher event; throws on a bad event (nothing is queued then). */
  update(change: RelationUnitsChange): void;
  /** True when no hook is ready now. */
  empty(): boolean;
  /** The hook that would be delivered now; throws when empty. */
  next(): HookInfo;
  /** Takes the hook returned by `next()`. */
  pop(): void;
}

/** Plain-data form of a relation's committed state (the shape of Juju 2.8+'s persisted State). */
export interface StateData {
  relationId: number;
  /** Remote unit → last committed change version; null once relation-broken was committed. */
  members: Record<string, Version> | null;
  /** Remote application → last committed application-settings version. */
  applicationMembers?: Record<string, Version>;
  /** Unit whose relation-changed must run next, or "". */
  changedPending?: string;
}
