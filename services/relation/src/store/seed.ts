// Writes model state directly, bypassing the domain checks: for tests and the conformance harness, which set up
// states (dying relations, archived settings, given relation ids) that the API cannot produce in one step.
import { randomUUID } from "node:crypto";
import type { Sql, TransactionSql } from "postgres";
import { relationScope } from "../domain/inference";
import type { Endpoint, Life, RelationStatus, Scope } from "../domain/types";
import { insertApplication, insertRelation, replaceUnitSettings } from "./state";

/** An application to seed, with exactly these endpoints. */
export interface SeedApplication {
  name: string;
  subordinate: boolean;
  remote: boolean;
  life: Life;
  base: string;
  endpoints: Endpoint[];
}

/** A relation to seed, by its `app:endpoint` identifiers in any order. */
export interface SeedRelation {
  endpoints: string[];
  id: number;
  life: Life;
  status: RelationStatus;
  statusMessage: string;
  suspended: boolean;
  /** Default: container if either endpoint is container-scoped. */
  scope?: Scope;
}

/** A unit to seed. */
export interface SeedUnit {
  name: string;
  life: Life;
  machine: string;
  principal?: string;
}

/** Direct writes into one model's tables. */
export class Seeder {
  constructor(
    private readonly tx: TransactionSql,
    readonly model: string,
  ) {}

  /** Runs `fn` with a seeder in one transaction. */
  static async run<T>(sql: Sql, model: string, fn: (s: Seeder) => Promise<T>): Promise<T> {
    return (await sql.begin((tx) => fn(new Seeder(tx, model)))) as T;
  }

  /** Creates the model (with its sequence at 0); returns its UUID. */
  static async createModel(sql: Sql, name: string): Promise<string> {
    const uuid = randomUUID();
    await sql.begin(async (tx) => {
      await tx`insert into relation.model (uuid, name) values (${uuid}, ${name})`;
      await tx`insert into relation.sequence (model_uuid, namespace, next_value) values (${uuid}, 'relation', 0)`;
    });
    return uuid;
  }

  async application(app: SeedApplication): Promise<string> {
    return insertApplication(this.tx, this.model, app);
  }

  async relation(r: SeedRelation): Promise<string> {
    const eps = [];
    for (const id of r.endpoints) {
      const [app, name] = id.split(":");
      const [row] = await this.tx<{ uuid: string; scope: Scope }[]>`
        select ae.uuid, ae.scope from relation.application_endpoint ae
        join relation.application a on a.uuid = ae.application_uuid
        where a.model_uuid = ${this.model} and a.name = ${app!} and ae.name = ${name ?? ""}`;
      if (!row) throw new Error(`seed: no endpoint ${id}`);
      eps.push(row);
    }
    return insertRelation(this.tx, this.model, {
      id: r.id,
      life: r.life,
      status: r.status,
      statusMessage: r.statusMessage,
      since: new Date(),
      suspended: r.suspended,
      scope: r.scope ?? relationScope(eps[0]!, eps[1]),
      endpointUuids: eps.map((e) => e.uuid),
    });
  }

  async unit(u: SeedUnit): Promise<string> {
    const app = u.name.slice(0, u.name.lastIndexOf("/"));
    const n = Number(u.name.slice(u.name.lastIndexOf("/") + 1));
    const [a] = await this.tx<{ uuid: string }[]>`
      update relation.application set next_unit_number = greatest(next_unit_number, ${n + 1})
      where model_uuid = ${this.model} and name = ${app} returning uuid`;
    if (!a) throw new Error(`seed: no application ${app}`);
    let principalUuid: string | null = null;
    if (u.principal) {
      const [p] = await this.tx<{ uuid: string }[]>`
        select uuid from relation.unit where model_uuid = ${this.model} and name = ${u.principal}`;
      if (!p) throw new Error(`seed: principal ${u.principal} must be seeded before ${u.name}`);
      principalUuid = p.uuid;
    }
    const uuid = randomUUID();
    await this
      .tx`insert into relation.unit (uuid, model_uuid, application_uuid, name, life, machine, principal_uuid,
        agent_status, workload_status)
      values (${uuid}, ${this.model}, ${a.uuid}, ${u.name}, ${u.life}, ${u.machine || null}, ${principalUuid},
        'idle', 'active')`;
    return uuid;
  }

  /** Puts the unit in the relation's scope on its application's side, with settings (none: no hash row). */
  async inScope(relationUuid: string, unitUuid: string, settings?: Record<string, string>): Promise<string> {
    const [re] = await this.tx<{ uuid: string }[]>`
      select re.uuid from relation.relation_endpoint re
      join relation.application_endpoint ae on ae.uuid = re.endpoint_uuid
      join relation.unit u on u.application_uuid = ae.application_uuid
      where re.relation_uuid = ${relationUuid} and u.uuid = ${unitUuid}`;
    if (!re) throw new Error("seed: the unit's application is not in the relation");
    const uuid = randomUUID();
    await this.tx`insert into relation.relation_unit (uuid, relation_endpoint_uuid, unit_uuid)
      values (${uuid}, ${re.uuid}, ${unitUuid})`;
    if (settings) await replaceUnitSettings(this.tx, uuid, settings);
    return uuid;
  }

  async sequenceNext(next: number): Promise<void> {
    await this
      .tx`insert into relation.sequence (model_uuid, namespace, next_value) values (${this.model}, 'relation', ${next})
      on conflict (model_uuid, namespace) do update set next_value = excluded.next_value`;
  }

  async leader(application: string, holder: string, term: number): Promise<void> {
    await this.tx`insert into relation.leader (model_uuid, application, holder, term)
      values (${this.model}, ${application}, ${holder}, ${term})
      on conflict (model_uuid, application) do update set holder = excluded.holder, term = excluded.term`;
  }

  async archive(relationUuid: string, unitName: string, settings: Record<string, string>): Promise<void> {
    for (const [key, value] of Object.entries(settings))
      await this.tx`insert into relation.relation_unit_setting_archive (relation_uuid, unit_name, key, value)
        values (${relationUuid}, ${unitName}, ${key}, ${value})`;
  }
}

/**
 * Every row of a model's state (and the outbox's size), in a stable order: two snapshots are equal exactly when
 * nothing changed.
 */
export async function snapshotModel(sql: Sql, model: string): Promise<string> {
  const q = (text: string) => sql.unsafe(text, [model]);
  const parts = {
    model: await q("select * from relation.model where uuid = $1"),
    sequence: await q("select * from relation.sequence where model_uuid = $1 order by namespace"),
    application: await q("select * from relation.application where model_uuid = $1 order by uuid"),
    endpoint: await q(`select ae.* from relation.application_endpoint ae join relation.application a
      on a.uuid = ae.application_uuid where a.model_uuid = $1 order by ae.uuid`),
    unit: await q("select * from relation.unit where model_uuid = $1 order by uuid"),
    relation: await q("select * from relation.relation where model_uuid = $1 order by uuid"),
    relationEndpoint: await q(`select re.* from relation.relation_endpoint re join relation.relation r
      on r.uuid = re.relation_uuid where r.model_uuid = $1 order by re.uuid`),
    status: await q(`select s.* from relation.relation_status s join relation.relation r
      on r.uuid = s.relation_uuid where r.model_uuid = $1 order by s.relation_uuid`),
    relationUnit:
      await q(`select ru.* from relation.relation_unit ru join relation.unit u on u.uuid = ru.unit_uuid
      where u.model_uuid = $1 order by ru.uuid`),
    unitSetting: await q(`select s.* from relation.relation_unit_setting s join relation.relation_unit ru
      on ru.uuid = s.relation_unit_uuid join relation.unit u on u.uuid = ru.unit_uuid
      where u.model_uuid = $1 order by s.relation_unit_uuid, s.key`),
    unitHash: await q(`select h.* from relation.relation_unit_settings_hash h join relation.relation_unit ru
      on ru.uuid = h.relation_unit_uuid join relation.unit u on u.uuid = ru.unit_uuid
      where u.model_uuid = $1 order by h.relation_unit_uuid`),
    appSetting:
      await q(`select s.* from relation.relation_application_setting s join relation.relation_endpoint re
      on re.uuid = s.relation_endpoint_uuid join relation.relation r on r.uuid = re.relation_uuid
      where r.model_uuid = $1 order by s.relation_endpoint_uuid, s.key`),
    appHash: await q(`select h.* from relation.relation_application_settings_hash h
      join relation.relation_endpoint re on re.uuid = h.relation_endpoint_uuid
      join relation.relation r on r.uuid = re.relation_uuid where r.model_uuid = $1 order by h.relation_endpoint_uuid`),
    archive: await q(`select a.* from relation.relation_unit_setting_archive a join relation.relation r
      on r.uuid = a.relation_uuid where r.model_uuid = $1 order by a.relation_uuid, a.unit_name, a.key`),
    egress: await q(`select e.* from relation.relation_network_egress e join relation.relation r
      on r.uuid = e.relation_uuid where r.model_uuid = $1 order by e.relation_uuid, e.cidr`),
    leader: await q("select * from relation.leader where model_uuid = $1 order by application"),
    outbox: await sql`select count(*)::int as n from relation.outbox`,
  };
  return JSON.stringify(parts);
}
