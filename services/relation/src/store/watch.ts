// Snapshots the watchers re-read after each notification of their model.
import { settingsVersion } from "../domain/settings";
import type { RelationUnitsSnapshot } from "../domain/watch";
import { type Db, readRelation, readRelations, readUnit } from "./read";
import type { RelationView, UnitView } from "./types";

/**
 * The relation as `unit` sees it (Juju's counterpart units): the other side's units in scope (its own
 * application's other units for a peer relation) and the other side's application settings version. In a
 * container-scoped relation only units in the same container (sharing the principal) count. Undefined when the
 * relation is gone.
 */
export async function relationUnitsSnapshot(
  db: Db,
  model: string,
  relationUuid: string,
  unit: UnitView,
): Promise<RelationUnitsSnapshot | undefined> {
  const relation = await readRelation(db, model, relationUuid);
  if (!relation) return undefined;
  const own = relation.endpoints.find((e) => e.applicationUuid === unit.applicationUuid);
  const remote = relation.endpoints.length === 1 ? own : relation.endpoints.find((e) => e !== own);
  if (!remote) return { units: new Map(), applications: new Map() };
  const container = unit.principalUuid ?? unit.uuid;
  const rows = await db<{ name: string; sha256: string | null; container: string }[]>`
    select u.name, h.sha256, coalesce(u.principal_uuid, u.uuid) as container
    from relation.relation_unit ru
    join relation.unit u on u.uuid = ru.unit_uuid
    left join relation.relation_unit_settings_hash h on h.relation_unit_uuid = ru.uuid
    where ru.relation_endpoint_uuid = ${remote.uuid}`;
  const units = new Map<string, bigint>();
  for (const r of rows) {
    if (r.name === unit.name) continue;
    if (relation.scope === "container" && r.container !== container) continue;
    units.set(r.name, settingsVersion(r.sha256));
  }
  const [app] = await db<{ sha256: string }[]>`
    select sha256 from relation.relation_application_settings_hash where relation_endpoint_uuid = ${remote.uuid}`;
  return { units, applications: new Map([[remote.application, settingsVersion(app?.sha256)]]) };
}

/**
 * The relations the unit's application takes part in. For a subordinate unit, a relation is listed only if the
 * subordinate's endpoint is global, or the other side is the unit's principal application or another
 * subordinate (spec section 13). Undefined when the unit is gone.
 */
export async function unitRelationsSnapshot(
  db: Db,
  model: string,
  unitName: string,
): Promise<RelationView[] | undefined> {
  const unit = await readUnit(db, model, unitName);
  if (!unit) return undefined;
  const relations = await readRelations(db, model, unit.applicationUuid);
  if (!unit.principalUuid) return relations;
  const [principal] = await db<{ applicationUuid: string }[]>`
    select application_uuid as "applicationUuid" from relation.unit where uuid = ${unit.principalUuid}`;
  return relations.filter((r) => {
    const own = r.endpoints.find((e) => e.applicationUuid === unit.applicationUuid);
    const other = r.endpoints.find((e) => e !== own);
    if (!own || !other || r.scope === "global") return true;
    return other.applicationUuid === principal?.applicationUuid || other.subordinate;
  });
}

/** Whether a relation changed in what WatchUnitRelations reports. */
export function relationChanged(a: RelationView, b: RelationView): boolean {
  return (
    a.life !== b.life ||
    a.status !== b.status ||
    a.statusMessage !== b.statusMessage ||
    a.suspended !== b.suspended ||
    a.unitsInScope.join(",") !== b.unitsInScope.join(",")
  );
}
