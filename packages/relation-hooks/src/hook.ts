import type { HookInfo, Version } from "./types";

/** Relation hook kinds, with Juju's exact strings. */
export const HookKind = {
  RelationCreated: "relation-created",
  RelationJoined: "relation-joined",
  RelationChanged: "relation-changed",
  RelationDeparted: "relation-departed",
  RelationBroken: "relation-broken",
} as const;

/** One of the relation hook kind strings. */
export type HookKind = (typeof HookKind)[keyof typeof HookKind];

const kinds: ReadonlySet<string> = new Set(Object.values(HookKind));

/** Whether `s` is a relation hook kind string. */
export function isHookKind(s: string): s is HookKind {
  return kinds.has(s);
}

/** The application of a unit name: the text before its `/`. */
export function applicationOf(unitName: string): string {
  const i = unitName.indexOf("/");
  return i < 0 ? unitName : unitName.slice(0, i);
}

/** The charm hook file that runs for `kind` on `endpointName`, e.g. `db-relation-joined`. */
export function hookName(endpointName: string, kind: HookKind): string {
  return `${endpointName}-${kind}`;
}

/** A unit-level hook (joined, changed or departed) for `remoteUnit`. */
export function unitHook(
  kind: HookKind,
  relationId: number,
  remoteUnit: string,
  changeVersion: Version,
  departingUnit?: string,
): HookInfo {
  const hook: HookInfo = {
    kind,
    relationId,
    remoteUnit,
    remoteApplication: applicationOf(remoteUnit),
    changeVersion,
  };
  if (kind === HookKind.RelationDeparted) hook.departingUnit = departingUnit ?? remoteUnit;
  return hook;
}

/** An application-level relation-changed (no remote unit). */
export function applicationChangedHook(
  relationId: number,
  application: string,
  changeVersion: Version,
): HookInfo {
  return {
    kind: HookKind.RelationChanged,
    relationId,
    remoteUnit: "",
    remoteApplication: application,
    changeVersion,
  };
}

/** A relation-broken or relation-created hook: no remote unit, version 0. */
export function relationHook(
  kind: typeof HookKind.RelationBroken | typeof HookKind.RelationCreated,
  relationId: number,
  remoteApplication: string,
): HookInfo {
  return { kind, relationId, remoteUnit: "", remoteApplication, changeVersion: 0 };
}
