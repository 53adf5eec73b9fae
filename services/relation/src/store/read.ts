// Reads shared by the state operations and the watchers. Every function takes the connection or transaction
// to read through, so checks see the transaction's own writes.

import type { Sql, TransactionSql } from "postgres";
import { identifierString, relationKey } from "../domain/identifier";
import type { Life, RelationStatus, Role, Scope } from "../domain/types";
import type {
  ApplicationView,
  EndpointView,
  ModelView,
  RelationEndpointView,
  RelationView,
  UnitView,
} from "./types";

/** Anything queries can run on. */
export type Db = Sql | TransactionSql;

const ROLE_ORDER: Record<Role, number> = { requirer: 0, provider: 1, peer: 2 };

/** The model, or undefined. */
export async function readModel(db: Db, uuid: string): Promise<ModelView | undefined> {
  const [row] = await db<ModelView[]>`select uuid, name, life from relation.model where uuid = ${uuid}`;
  return row;
}

/** Every model. */
export async function readModels(db: Db): Promise<ModelView[]> {
  return db<ModelView[]>`select uuid, name, life from relation.model order by name`;
}

interface ApplicationRow {
  uuid: string;
  modelUuid: string;
  name: string;
  life: Life;
  subordinate: boolean;
  remote: boolean;
  base: string | null;
}

async function withEndpoints(db: Db, apps: ApplicationRow[]): Promise<ApplicationView[]> {
  if (apps.length === 0) return [];
  const eps = await db<(EndpointView & { applicationUuid: string })[]>`
    select uuid, application_uuid as "applicationUuid", name, role, interface, scope, capacity, optional
    from relation.application_endpoint where application_uuid = any(${apps.map((a) => a.uuid)}::uuid[])
    order by name`;
  return apps.map((a) => ({
    ...a,
    base: a.base ?? "",
    endpoints: eps.filter((e) => e.applicationUuid === a.uuid).map(({ applicationUuid: _, ...e }) => e),
  }));
}

const APP_COLUMNS = `uuid, model_uuid as "modelUuid", name, life, subordinate, remote, base`;

/** An application of the model by name, with its endpoints, or undefined. */
export async function readApplication(
  db: Db,
  model: string,
  name: string,
): Promise<ApplicationView | undefined> {
  const rows = await db<ApplicationRow[]>`
    select ${db.unsafe(APP_COLUMNS)} from relation.application where model_uuid = ${model} and name = ${name}`;
  return (await withEndpoints(db, rows))[0];
}

/** An application of the model by UUID, with its endpoints, or undefined. */
export async function readApplicationByUUID(
  db: Db,
  model: string,
  uuid: string,
): Promise<ApplicationView | undefined> {
  const rows = await db<ApplicationRow[]>`
    select ${db.unsafe(APP_COLUMNS)} from relation.application where model_uuid = ${model} and uuid = ${uuid}`;
  return (await withEndpoints(db, rows))[0];
}

/** Every application of the model, by name. */
export async function readApplications(db: Db, model: string): Promise<ApplicationView[]> {
  const rows = await db<ApplicationRow[]>`
    select ${db.unsafe(APP_COLUMNS)} from relation.application where model_uuid = ${model} order by name`;
  return withEndpoints(db, rows);
}

const UNIT_SELECT = `
  select u.uuid, u.name, u.application_uuid as "applicationUuid", a.name as application, u.life,
    coalesce(u.machine, '') as machine, coalesce(p.name, '') as principal, u.principal_uuid as "principalUuid",
    u.agent_status as "agentStatus", u.agent_message as "agentMessage",
    u.workload_status as "workloadStatus", u.workload_message as "workloadMessage"
  from relation.unit u
  join relation.application a on a.uuid = u.application_uuid
  left join relation.unit p on p.uuid = u.principal_uuid`;

/** A unit of the model by name, or undefined. */
export async function readUnit(db: Db, model: string, name: string): Promise<UnitView | undefined> {
  const [row] = await db<
    UnitView[]
  >`${db.unsafe(UNIT_SELECT)} where u.model_uuid = ${model} and u.name = ${name}`;
  return row;
}

/** A unit by UUID, or undefined. */
export async function readUnitByUUID(db: Db, uuid: string): Promise<UnitView | undefined> {
  const [row] = await db<UnitView[]>`${db.unsafe(UNIT_SELECT)} where u.uuid = ${uuid}`;
  return row;
}

/** The units of the model (of one application when given), by name. */
export async function readUnits(db: Db, model: string, applicationUuid?: string): Promise<UnitView[]> {
  const rows = applicationUuid
    ? await db<
        UnitView[]
      >`${db.unsafe(UNIT_SELECT)} where u.model_uuid = ${model} and u.application_uuid = ${applicationUuid}`
    : await db<UnitView[]>`${db.unsafe(UNIT_SELECT)} where u.model_uuid = ${model}`;
  return rows.sort((a, b) => compareUnitNames(a.name, b.name));
}

/** Orders unit names by application, then unit number. */
export function compareUnitNames(a: string, b: string): number {
  const [appA, numA] = [a.slice(0, a.lastIndexOf("/")), Number(a.slice(a.lastIndexOf("/") + 1))];
  const [appB, numB] = [b.slice(0, b.lastIndexOf("/")), Number(b.slice(b.lastIndexOf("/") + 1))];
  if (appA !== appB) return appA < appB ? -1 : 1;
  return numA - numB;
}

interface RelationRow {
  uuid: string;
  modelUuid: string;
  id: number;
  life: Life;
  suspended: boolean;
  suspendedReason: string;
  scope: Scope;
  status: RelationStatus;
  statusMessage: string;
  /** Read as epoch milliseconds: drizzle's driver makes the shared pool return timestamps as strings. */
  statusSinceMs: number;
}

const RELATION_SELECT = `
  select r.uuid, r.model_uuid as "modelUuid", r.relation_id as id, r.life, r.suspended,
    r.suspended_reason as "suspendedReason", r.scope, coalesce(s.status, 'joining') as status,
    coalesce(s.message, '') as "statusMessage",
    (extract(epoch from coalesce(s.updated_at, now())) * 1000)::float8 as "statusSinceMs"
  from relation.relation r left join relation.relation_status s on s.relation_uuid = r.uuid`;

async function assemble(db: Db, rows: RelationRow[]): Promise<RelationView[]> {
  if (rows.length === 0) return [];
  const uuids = rows.map((r) => r.uuid);
  const eps = await db<(Omit<RelationEndpointView, "scope"> & { relationUuid: string })[]>`
    select re.uuid, re.relation_uuid as "relationUuid", ae.uuid as "endpointUuid", a.uuid as "applicationUuid",
      a.name as application, a.life as "applicationLife", a.subordinate, a.remote, ae.name, ae.role,
      ae.interface, ae.capacity
    from relation.relation_endpoint re
    join relation.application_endpoint ae on ae.uuid = re.endpoint_uuid
    join relation.application a on a.uuid = ae.application_uuid
    where re.relation_uuid = any(${uuids}::uuid[])`;
  const units = await db<{ relationUuid: string; name: string }[]>`
    select re.relation_uuid as "relationUuid", u.name
    from relation.relation_unit ru
    join relation.relation_endpoint re on re.uuid = ru.relation_endpoint_uuid
    join relation.unit u on u.uuid = ru.unit_uuid
    where re.relation_uuid = any(${uuids}::uuid[])`;
  return rows.map(({ statusSinceMs, ...r }) => {
    const endpoints = eps
      .filter((e) => e.relationUuid === r.uuid)
      .map(({ relationUuid: _, ...e }) => ({ ...e, scope: r.scope }))
      .sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
    return {
      ...r,
      statusSince: new Date(statusSinceMs),
      key: keyOf(endpoints),
      endpoints,
      unitsInScope: units
        .filter((u) => u.relationUuid === r.uuid)
        .map((u) => u.name)
        .sort(compareUnitNames),
    };
  });
}

/** The relation key of stored endpoints; a relation with malformed endpoints gets its endpoints joined. */
export function keyOf(endpoints: { application: string; name: string; role: Role }[]): string {
  const ids = endpoints.map((e) => ({ application: e.application, endpoint: e.name, role: e.role }));
  try {
    return relationKey(ids).key;
  } catch {
    return ids.map(identifierString).join(" ");
  }
}

/** A relation of the model by UUID, or undefined. */
export async function readRelation(db: Db, model: string, uuid: string): Promise<RelationView | undefined> {
  const rows = await db<
    RelationRow[]
  >`${db.unsafe(RELATION_SELECT)} where r.model_uuid = ${model} and r.uuid = ${uuid}`;
  return (await assemble(db, rows))[0];
}

/** A relation of the model by relation id, or undefined. */
export async function readRelationById(db: Db, model: string, id: number): Promise<RelationView | undefined> {
  const rows = await db<
    RelationRow[]
  >`${db.unsafe(RELATION_SELECT)} where r.model_uuid = ${model} and r.relation_id = ${id}`;
  return (await assemble(db, rows))[0];
}

/** The relations of the model, or of one application, by relation id. */
export async function readRelations(
  db: Db,
  model: string,
  applicationUuid?: string,
): Promise<RelationView[]> {
  const rows = applicationUuid
    ? await db<RelationRow[]>`${db.unsafe(RELATION_SELECT)} where r.model_uuid = ${model} and r.uuid in (
        select re.relation_uuid from relation.relation_endpoint re
        join relation.application_endpoint ae on ae.uuid = re.endpoint_uuid
        where ae.application_uuid = ${applicationUuid}) order by r.relation_id`
    : await db<
        RelationRow[]
      >`${db.unsafe(RELATION_SELECT)} where r.model_uuid = ${model} order by r.relation_id`;
  return assemble(db, rows);
}

/** The relations whose endpoints are exactly these `app:endpoint` identifiers. */
export async function readRelationsByEndpoints(
  db: Db,
  model: string,
  identifiers: string[],
): Promise<string[]> {
  const rows = await db<{ uuid: string }[]>`
    select r.uuid from relation.relation r
    join relation.relation_endpoint re on re.relation_uuid = r.uuid
    join relation.application_endpoint ae on ae.uuid = re.endpoint_uuid
    join relation.application a on a.uuid = ae.application_uuid
    where r.model_uuid = ${model}
    group by r.uuid
    having count(*) = ${identifiers.length} and bool_and((a.name || ':' || ae.name) = any(${identifiers}::text[]))`;
  return rows.map((r) => r.uuid);
}

/** The unit's relation unit in the relation, or undefined when it is not in scope. */
export async function readRelationUnit(
  db: Db,
  relationUuid: string,
  unitUuid: string,
): Promise<{ uuid: string; relationEndpointUuid: string } | undefined> {
  const [row] = await db<{ uuid: string; relationEndpointUuid: string }[]>`
    select ru.uuid, ru.relation_endpoint_uuid as "relationEndpointUuid"
    from relation.relation_unit ru join relation.relation_endpoint re on re.uuid = ru.relation_endpoint_uuid
    where re.relation_uuid = ${relationUuid} and ru.unit_uuid = ${unitUuid}`;
  return row;
}

/** Settings rows as a map. */
export function toSettings(rows: { key: string; value: string }[]): Record<string, string> {
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/** A relation unit's settings. */
export async function readUnitSettings(db: Db, relationUnitUuid: string): Promise<Record<string, string>> {
  return toSettings(
    await db<{ key: string; value: string }[]>`
      select key, value from relation.relation_unit_setting where relation_unit_uuid = ${relationUnitUuid}`,
  );
}

/** One relation side's application settings. */
export async function readApplicationSettings(
  db: Db,
  relationEndpointUuid: string,
): Promise<Record<string, string>> {
  return toSettings(
    await db<{ key: string; value: string }[]>`
      select key, value from relation.relation_application_setting
      where relation_endpoint_uuid = ${relationEndpointUuid}`,
  );
}
