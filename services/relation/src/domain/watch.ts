// Diffs of watcher snapshots. Versions are compared for equality only (relation-hooks spec section 1.2).

/** What a relation looks like to one watching unit: counterpart units and applications with settings versions. */
export interface RelationUnitsSnapshot {
  units: Map<string, bigint>;
  applications: Map<string, bigint>;
}

/** Juju's RelationUnitsChange. */
export interface RelationUnitsDiff {
  changed: Map<string, bigint>;
  appChanged: Map<string, bigint>;
  departed: string[];
}

/** The change from one snapshot to the next; empty maps and list when nothing changed. */
export function diffRelationUnits(
  prev: RelationUnitsSnapshot,
  next: RelationUnitsSnapshot,
): RelationUnitsDiff {
  const changed = new Map<string, bigint>();
  const appChanged = new Map<string, bigint>();
  for (const [unit, v] of next.units) if (prev.units.get(unit) !== v) changed.set(unit, v);
  for (const [app, v] of next.applications) if (prev.applications.get(app) !== v) appChanged.set(app, v);
  const departed = [...prev.units.keys()].filter((u) => !next.units.has(u)).sort();
  return { changed, appChanged, departed };
}

/** Whether a diff carries anything. */
export function isEmptyDiff(d: RelationUnitsDiff): boolean {
  return d.changed.size === 0 && d.appChanged.size === 0 && d.departed.length === 0;
}
