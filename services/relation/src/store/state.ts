// The relation domain's state operations: each runs in one transaction, makes Juju's checks in the spec's order
// (using the pure rules of ../domain), and records its change events in the same transaction.
import { randomUUID } from "node:crypto";
import type { Sql, TransactionSql } from "postgres";
import { fail, RelationError } from "../domain/errors";
import { identifierString, relationKey } from "../domain/identifier";
import { inferEndpoints, relationScope } from "../domain/inference";
import {
  checkSettingsSize,
  dropEmpty,
  settingsHash,
  splitSettings,
  validateSettingsKeys,
} from "../domain/settings";
import { checkStatusTransition } from "../domain/status";
import type { Endpoint, EndpointArg, EndpointIdentifier, Life, RelationStatus, Scope } from "../domain/types";
import { basesCompatible, parseBase, withImplicitJujuInfo } from "../domain/validation";
import { Changes } from "./events";
import {
  type Db,
  readApplication,
  readApplicationByUUID,
  readApplicationSettings,
  readApplications,
  readModel,
  readModels,
  readRelation,
  readRelationById,
  readRelations,
  readRelationsByEndpoints,
  readRelationUnit,
  readUnit,
  readUnitByUUID,
  readUnitSettings,
  readUnits,
  toSettings,
} from "./read";
import type {
  ApplicationView,
  EnterScopeResult,
  ModelView,
  RelationEndpointView,
  RelationView,
  UnitView,
} from "./types";

/** A source of the current time (milliseconds since the epoch); tests inject a manual one. */
export interface Clock {
  now(): number;
}

/** What deploying an application needs. */
export interface DeployArgs {
  name: string;
  subordinate: boolean;
  remote: boolean;
  base: string;
  endpoints: Endpoint[];
}

/** Leadership a unit claims for a write: the unit and the fencing term it holds. */
export interface LeadershipClaim {
  unit: string;
  term: number;
}

const notFound = {
  model: (uuid: string) => fail("ModelNotFound", `model ${JSON.stringify(uuid)} not found`),
  relation: (uuid: string) => fail("RelationNotFound", `relation ${JSON.stringify(uuid)} not found`),
  unit: (name: string) => fail("UnitNotFound", `unit ${JSON.stringify(name)} not found`),
  application: (name: string) => fail("ApplicationNotFound", `application ${JSON.stringify(name)} not found`),
};

/** The relation domain's state in Postgres (schema `relation`). */
export class RelationState {
  constructor(
    readonly sql: Sql,
    private readonly clock: Clock,
  ) {}

  /** Runs `fn` in a transaction whose changes are published (outbox + notify) when it commits. */
  async #tx<T>(model: string, fn: (tx: TransactionSql, ch: Changes) => Promise<T>): Promise<T> {
    return (await this.sql.begin(async (tx) => {
      const ch = new Changes(model);
      const result = await fn(tx, ch);
      await ch.flush(tx);
      return result;
    })) as T;
  }

  async #model(db: Db, uuid: string): Promise<ModelView> {
    const m = await readModel(db, uuid);
    if (!m) throw notFound.model(uuid);
    return m;
  }

  async #nextRelationId(tx: TransactionSql, model: string): Promise<number> {
    const [row] = await tx<{ id: number }[]>`
      update relation.sequence set next_value = next_value + 1
      where model_uuid = ${model} and namespace = 'relation' returning next_value - 1 as id`;
    if (row) return row.id;
    await tx`insert into relation.sequence (model_uuid, namespace, next_value) values (${model}, 'relation', 1)`;
    return 0;
  }

  // ---- models ----

  /** Creates a model with its relation sequence at 0. */
  async createModel(name: string): Promise<ModelView> {
    const uuid = randomUUID();
    return this.#tx(uuid, async (tx, ch) => {
      const [existing] = await tx`select 1 from relation.model where name = ${name}`;
      if (existing) throw fail("ModelAlreadyExists", `model ${JSON.stringify(name)} already exists`);
      await tx`insert into relation.model (uuid, name) values (${uuid}, ${name})`;
      await tx`insert into relation.sequence (model_uuid, namespace, next_value) values (${uuid}, 'relation', 0)`;
      ch.model(uuid);
      return { uuid, name, life: "alive" as Life };
    });
  }

  /** Every model. */
  listModels(): Promise<ModelView[]> {
    return readModels(this.sql);
  }

  /** Removes a model and everything in it, publishing each entity's removal. */
  async destroyModel(model: string): Promise<void> {
    await this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      await tx`select 1 from relation.model where uuid = ${model} for update`;
      for (const r of await readRelations(tx, model)) ch.removed("relation", r.key);
      for (const u of await readUnits(tx, model)) ch.removed("unit", u.name);
      for (const a of await readApplications(tx, model)) ch.removed("application", a.name);
      ch.removed("model", model);
      await tx`delete from relation.relation_unit where unit_uuid in (
        select uuid from relation.unit where model_uuid = ${model})`;
      await tx`delete from relation.leader where model_uuid = ${model}`;
      await tx`delete from relation.model where uuid = ${model}`;
    });
  }

  // ---- applications and units ----

  /**
   * Creates an application with its endpoints (the implicit juju-info added unless declared or remote) and one
   * peer relation per peer endpoint, in endpoint name order, ids from the model's sequence (spec section 6).
   */
  async deployApplication(
    model: string,
    args: DeployArgs,
  ): Promise<{ application: ApplicationView; peers: RelationView[] }> {
    return this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      if (await readApplication(tx, model, args.name))
        throw fail("ApplicationAlreadyExists", `application ${JSON.stringify(args.name)} already exists`);
      const endpoints = args.remote ? args.endpoints : withImplicitJujuInfo(args.endpoints);
      const uuid = await insertApplication(tx, model, { ...args, endpoints });
      const app = (await readApplicationByUUID(tx, model, uuid))!;
      const peers: string[] = [];
      for (const ep of app.endpoints.filter((e) => e.role === "peer").sort((a, b) => cmp(a.name, b.name))) {
        const id = await this.#nextRelationId(tx, model);
        peers.push(
          await insertRelation(tx, model, {
            id,
            life: "alive",
            status: "joining",
            statusMessage: "",
            since: new Date(this.clock.now()),
            scope: ep.scope,
            endpointUuids: [ep.uuid],
          }),
        );
      }
      ch.application(uuid);
      for (const p of peers) ch.relation(p);
      const views: RelationView[] = [];
      for (const p of peers) views.push((await readRelation(tx, model, p))!);
      return { application: app, peers: views };
    });
  }

  /** An application by name (ApplicationNotFound). */
  async getApplication(model: string, name: string): Promise<ApplicationView> {
    await this.#model(this.sql, model);
    const app = await readApplication(this.sql, model, name);
    if (!app) throw notFound.application(name);
    return app;
  }

  /** Every application of the model. */
  async listApplications(model: string): Promise<ApplicationView[]> {
    await this.#model(this.sql, model);
    return readApplications(this.sql, model);
  }

  /**
   * Alive → dying. Its units become dying; its alive relations become dying, and those with no unit in scope
   * dead, then removed. With no units and no relations left the application is removed.
   */
  async removeApplication(model: string, name: string): Promise<void> {
    const dead = await this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      const app = await readApplication(tx, model, name);
      if (!app) throw notFound.application(name);
      await tx`select 1 from relation.application where uuid = ${app.uuid} for update`;
      if (app.life !== "alive") return [];
      await tx`update relation.application set life = 'dying' where uuid = ${app.uuid}`;
      ch.application(app.uuid);
      const units = await tx<{ uuid: string }[]>`
        update relation.unit set life = 'dying' where application_uuid = ${app.uuid} and life = 'alive'
        returning uuid`;
      for (const u of units) ch.unit(u.uuid);
      const deadRelations: string[] = [];
      for (const r of await readRelations(tx, model, app.uuid)) {
        if (r.life !== "alive") continue;
        await tx`select 1 from relation.relation where uuid = ${r.uuid} for update`;
        const life = r.unitsInScope.length === 0 ? "dead" : "dying";
        await tx`update relation.relation set life = ${life} where uuid = ${r.uuid}`;
        ch.relation(r.uuid);
        if (life === "dead") deadRelations.push(r.uuid);
      }
      return deadRelations;
    });
    for (const uuid of dead) await this.#removeDeadRelation(model, uuid);
    const app = await readApplication(this.sql, model, name);
    if (app) await this.#maybeRemoveApplication(model, app.uuid);
  }

  /** Adds the application's next unit `app/N` (subordinate units come only from EnterScope). */
  async addUnit(model: string, application: string, machine: string): Promise<UnitView> {
    return this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      const app = await readApplication(tx, model, application);
      if (!app) throw notFound.application(application);
      if (app.life !== "alive")
        throw fail("ApplicationNotAlive", `application ${JSON.stringify(application)} is not alive`);
      if (app.subordinate)
        throw fail(
          "NotSupported",
          `cannot add a unit to subordinate application ${JSON.stringify(application)}: units come from relations`,
        );
      const uuid = await insertNextUnit(tx, model, app, {
        machine: machine || null,
        principalUuid: null,
        agentStatus: "allocating",
        workloadStatus: "waiting",
        workloadMessage: "waiting for machine",
      });
      ch.unit(uuid);
      return (await readUnitByUUID(tx, uuid))!;
    });
  }

  /** A unit by name (UnitNotFound). */
  async getUnit(model: string, name: string): Promise<UnitView> {
    await this.#model(this.sql, model);
    const unit = await readUnit(this.sql, model, name);
    if (!unit) throw notFound.unit(name);
    return unit;
  }

  /** The units of the model, or of one application. */
  async listUnits(model: string, application: string): Promise<UnitView[]> {
    await this.#model(this.sql, model);
    if (!application) return readUnits(this.sql, model);
    const app = await readApplication(this.sql, model, application);
    if (!app) throw notFound.application(application);
    return readUnits(this.sql, model, app.uuid);
  }

  /** Alive → dying; the unit keeps its scopes until its agent leaves them. */
  async removeUnit(model: string, name: string): Promise<void> {
    await this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      const unit = await readUnit(tx, model, name);
      if (!unit) throw notFound.unit(name);
      if (unit.life !== "alive") return;
      await tx`update relation.unit set life = 'dying' where uuid = ${unit.uuid}`;
      ch.unit(unit.uuid);
    });
  }

  /** Dying → dead → removed, once the unit is in no scope and has no subordinate units. */
  async ensureUnitDead(model: string, name: string): Promise<void> {
    const unit = await this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      const unit = await readUnit(tx, model, name);
      if (!unit) throw notFound.unit(name);
      await tx`select 1 from relation.unit where uuid = ${unit.uuid} for update`;
      if (unit.life === "alive") throw fail("UnitNotAlive", `unit ${JSON.stringify(name)} is still alive`);
      const [scope] = await tx<{ n: number }[]>`
        select count(*)::int as n from relation.relation_unit where unit_uuid = ${unit.uuid}`;
      if (scope!.n > 0)
        throw fail(
          "UnitsStillInScope",
          `unit ${JSON.stringify(name)} is still in ${scope!.n} relation scope(s)`,
        );
      const [subs] = await tx<{ n: number }[]>`
        select count(*)::int as n from relation.unit where principal_uuid = ${unit.uuid}`;
      if (subs!.n > 0)
        throw fail(
          "UnitHasSubordinates",
          `unit ${JSON.stringify(name)} still has ${subs!.n} subordinate unit(s)`,
        );
      await tx`update relation.unit set life = 'dead' where uuid = ${unit.uuid}`;
      ch.unit(unit.uuid);
      return unit;
    });
    await this.#tx(model, async (tx, ch) => {
      const deleted =
        await tx`delete from relation.unit where uuid = ${unit.uuid} and life = 'dead' returning 1`;
      if (deleted.length > 0) ch.removed("unit", unit.name);
    });
    await this.#maybeRemoveApplication(model, unit.applicationUuid);
  }

  /** Removes a dying application that has no units and takes part in no relation. */
  async #maybeRemoveApplication(model: string, appUuid: string): Promise<void> {
    await this.#tx(model, async (tx, ch) => {
      const [app] = await tx<{ name: string; life: Life }[]>`
        select name, life from relation.application where uuid = ${appUuid} for update`;
      if (!app || app.life === "alive") return;
      const [left] = await tx<{ units: number; relations: number }[]>`
        select (select count(*)::int from relation.unit where application_uuid = ${appUuid}) as units,
          (select count(*)::int from relation.relation_endpoint re
            join relation.application_endpoint ae on ae.uuid = re.endpoint_uuid
            where ae.application_uuid = ${appUuid}) as relations`;
      if (left!.units > 0 || left!.relations > 0) return;
      await tx`delete from relation.application where uuid = ${appUuid}`;
      ch.removed("application", app.name);
    });
  }

  // ---- relations ----

  /**
   * AddRelation (spec section 5.2): one transaction with the checks in the spec's order. Returns the relation
   * and its endpoints in input order.
   */
  async addRelation(
    model: string,
    arg1: EndpointArg,
    arg2: EndpointArg,
    cidrs: string[],
  ): Promise<{ relation: RelationView; endpoints: [RelationEndpointView, RelationEndpointView] }> {
    return this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      const app1 = await readApplication(tx, model, arg1.application);
      const app2 = await readApplication(tx, model, arg2.application);
      const [e1, e2] = inferEndpoints(arg1, app1, arg2, app2);
      const a1 = app1!;
      const a2 = app2!;
      if (a1.remote && a2.remote)
        throw fail("BothEndpointsRemote", "unable to integrate two cross model applications together");
      const ep1 = a1.endpoints.find((e) => e.name === e1.name)!;
      const ep2 = a2.endpoints.find((e) => e.name === e2.name)!;
      const id = await this.#nextRelationId(tx, model);
      const [existing] = await tx`
        select r.uuid from relation.relation r
        join relation.relation_endpoint x on x.relation_uuid = r.uuid and x.endpoint_uuid = ${ep1.uuid}
        join relation.relation_endpoint y on y.relation_uuid = r.uuid and y.endpoint_uuid = ${ep2.uuid}`;
      const name1 = identifierString({ application: a1.name, endpoint: ep1.name });
      const name2 = identifierString({ application: a2.name, endpoint: ep2.name });
      if (existing)
        throw fail("RelationAlreadyExists", `relation ${JSON.stringify(`${name1} ${name2}`)} already exists`);
      for (const a of [a1, a2]) {
        if (a.life !== "alive")
          throw fail("ApplicationNotAlive", `application ${JSON.stringify(a.name)} is not alive`);
      }
      const scope = relationScope(ep1, ep2);
      if (scope === "container" && !basesCompatible(parseStoredBase(a1.base), parseStoredBase(a2.base)))
        throw fail(
          "CompatibleEndpointsNotFound",
          `cannot relate ${name1} and ${name2} in container scope: bases ${JSON.stringify(a1.base)} and ${JSON.stringify(a2.base)} are not compatible`,
        );
      for (const [ep, name] of [
        [ep1, name1],
        [ep2, name2],
      ] as const) {
        if (ep.capacity <= 0) continue;
        const [row] = await tx<{ n: number }[]>`
          select count(*)::int as n from relation.relation_endpoint where endpoint_uuid = ${ep.uuid}`;
        if (row!.n >= ep.capacity)
          throw fail(
            "EndpointQuotaLimitExceeded",
            `establishing a new relation for ${name} would exceed its maximum relation limit of ${ep.capacity}`,
          );
      }
      const uuid = await insertRelation(tx, model, {
        id,
        life: "alive",
        status: "joining",
        statusMessage: "",
        since: new Date(this.clock.now()),
        scope,
        endpointUuids: [ep1.uuid, ep2.uuid],
      });
      if (cidrs.length > 0) {
        if (!a1.remote && !a2.remote)
          throw fail("NotSupported", "integration via subnets for non cross model relations");
        for (const cidr of cidrs)
          await tx`insert into relation.relation_network_egress (relation_uuid, cidr) values (${uuid}, ${cidr})
            on conflict do nothing`;
      }
      ch.relation(uuid);
      const relation = (await readRelation(tx, model, uuid))!;
      const find = (appUuid: string) => relation.endpoints.find((e) => e.applicationUuid === appUuid)!;
      return { relation, endpoints: [find(a1.uuid), find(a2.uuid)] };
    });
  }

  /** A relation by UUID (RelationNotFound). */
  async getRelation(model: string, uuid: string): Promise<RelationView> {
    await this.#model(this.sql, model);
    const r = await readRelation(this.sql, model, uuid);
    if (!r) throw notFound.relation(uuid);
    return r;
  }

  /** A relation by relation id (RelationNotFound). */
  async getRelationById(model: string, id: number): Promise<RelationView> {
    await this.#model(this.sql, model);
    const r = await readRelationById(this.sql, model, id);
    if (!r) throw fail("RelationNotFound", `relation id ${id} not found`);
    return r;
  }

  /**
   * A relation by key (spec section 12): the identifiers must make a valid key (RelationKeyNotValid); a peer key
   * finds the peer relation on that endpoint, a regular key the relation with both endpoints.
   */
  async getRelationByKey(model: string, ids: EndpointIdentifier[]): Promise<RelationView> {
    const { key, endpoints } = relationKey(ids);
    await this.#model(this.sql, model);
    const [uuid] = await readRelationsByEndpoints(this.sql, model, endpoints.map(identifierString));
    if (!uuid) throw fail("RelationNotFound", `relation ${JSON.stringify(key)} not found`);
    return (await readRelation(this.sql, model, uuid))!;
  }

  /** The relations of the model, or of one application. */
  async listRelations(model: string, application: string): Promise<RelationView[]> {
    await this.#model(this.sql, model);
    if (!application) return readRelations(this.sql, model);
    const app = await readApplication(this.sql, model, application);
    if (!app) throw notFound.application(application);
    return readRelations(this.sql, model, app.uuid);
  }

  /**
   * The relation endpoint of an application in a relation: ApplicationNotFound and RelationNotFound (both
   * together when both are missing), RelationEndpointNotFound when the application is not in the relation.
   */
  async getRelationEndpointUUID(
    model: string,
    relationUuid: string,
    applicationUuid: string,
  ): Promise<string> {
    await this.#model(this.sql, model);
    const app = await readApplicationByUUID(this.sql, model, applicationUuid);
    const relation = await readRelation(this.sql, model, relationUuid);
    if (!app && !relation)
      throw new RelationError(
        "ApplicationNotFound",
        `application ${JSON.stringify(applicationUuid)} not found; relation ${JSON.stringify(relationUuid)} not found`,
        { also: ["RelationNotFound"] },
      );
    if (!app) throw fail("ApplicationNotFound", `application ${JSON.stringify(applicationUuid)} not found`);
    if (!relation) throw notFound.relation(relationUuid);
    const ep = relation.endpoints.find((e) => e.applicationUuid === applicationUuid);
    if (!ep)
      throw fail(
        "RelationEndpointNotFound",
        `application ${JSON.stringify(app.name)} is not in relation ${JSON.stringify(relation.key)}`,
      );
    return ep.uuid;
  }

  /** The relation `remove-relation` names (spec section 5.4). */
  async getRelationUUIDForRemoval(
    model: string,
    args: { endpoints: EndpointArg[] } | { relationId: number },
  ): Promise<string> {
    await this.#model(this.sql, model);
    if ("relationId" in args) {
      const r = await readRelationById(this.sql, model, args.relationId);
      if (!r) throw fail("RelationNotFound", `relation id ${args.relationId} not found`);
      if (r.endpoints.length === 1) throw fail("NotSupported", "cannot remove a peer relation");
      return r.uuid;
    }
    const eps = args.endpoints;
    if (eps.length === 1) throw fail("NotSupported", "cannot remove a peer relation");
    if (eps.length !== 2) throw fail("NotValid", `a relation has 1 or 2 endpoints, got ${eps.length}`);
    const [arg1, arg2] = eps as [EndpointArg, EndpointArg];
    const app1 = await readApplication(this.sql, model, arg1.application);
    const app2 = await readApplication(this.sql, model, arg2.application);
    const notFoundErr = () =>
      fail(
        "RelationNotFound",
        `relation between ${JSON.stringify(arg1.raw)} and ${JSON.stringify(arg2.raw)} not found`,
      );
    let pair: ReturnType<typeof inferEndpoints>;
    try {
      pair = inferEndpoints(arg1, app1, arg2, app2);
    } catch (err) {
      if (err instanceof RelationError && err.is("RelationEndpointNotFound", "CompatibleEndpointsNotFound"))
        throw notFoundErr();
      if (!(err instanceof RelationError && err.is("AmbiguousRelation"))) throw err;
      const between = (await readRelations(this.sql, model, app1!.uuid)).filter(
        (r) => r.endpoints.length === 2 && r.endpoints.some((e) => e.applicationUuid === app2!.uuid),
      );
      if (between.length === 0) throw notFoundErr();
      if (between.length > 1)
        throw fail(
          "AmbiguousRelation",
          `multiple relations exist between ${JSON.stringify(arg1.raw)} and ${JSON.stringify(arg2.raw)}: ${between.map((r) => JSON.stringify(r.key)).join(", ")}`,
        );
      return between[0]!.uuid;
    }
    const ids = pair.map((e) => identifierString({ application: e.application, endpoint: e.name }));
    const [uuid] = await readRelationsByEndpoints(this.sql, model, ids);
    if (!uuid) throw notFoundErr();
    return uuid;
  }

  /**
   * RemoveRelation (spec section 9): alive → dying; with no unit in scope dead at once and removed. With force,
   * units still in scope after `waitMs` are evicted without archiving, then the relation is removed.
   */
  async removeRelation(
    model: string,
    uuid: string,
    force: boolean,
    wait: (ms: number) => Promise<void>,
    waitMs: number,
  ): Promise<void> {
    const dead = await this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      const r = await this.#lockRelation(tx, model, uuid, "update");
      if (r.endpoints.some((e) => e.remote))
        throw fail("RelationIsCrossModel", `relation ${JSON.stringify(r.key)} is a cross-model relation`);
      let life = r.life;
      if (life === "alive") life = "dying";
      if (life === "dying" && r.unitsInScope.length === 0) life = "dead";
      if (life !== r.life) {
        await tx`update relation.relation set life = ${life} where uuid = ${uuid}`;
        ch.relation(uuid);
      }
      return life === "dead";
    });
    if (!dead && force) {
      if (waitMs > 0) await wait(waitMs);
      await this.#tx(model, async (tx, ch) => {
        const r = await readRelation(tx, model, uuid);
        if (!r) return;
        await tx`select 1 from relation.relation where uuid = ${uuid} for update`;
        for (const u of await tx<{ uuid: string; unit_uuid: string }[]>`
          select ru.uuid, ru.unit_uuid from relation.relation_unit ru
          join relation.relation_endpoint re on re.uuid = ru.relation_endpoint_uuid
          where re.relation_uuid = ${uuid}`) {
          await tx`delete from relation.relation_unit where uuid = ${u.uuid}`;
        }
        await tx`update relation.relation set life = 'dead' where uuid = ${uuid}`;
        ch.relation(uuid);
      });
    }
    if (dead || force) await this.#removeDeadRelation(model, uuid);
  }

  async #lockRelation(
    tx: TransactionSql,
    model: string,
    uuid: string,
    mode: "update" | "share",
  ): Promise<RelationView> {
    const locked =
      mode === "update"
        ? await tx`select 1 from relation.relation where uuid = ${uuid} and model_uuid = ${model} for update`
        : await tx`select 1 from relation.relation where uuid = ${uuid} and model_uuid = ${model} for share`;
    if (locked.length === 0) throw notFound.relation(uuid);
    return (await readRelation(tx, model, uuid))!;
  }

  /** Deletes a dead relation with everything hanging off it; its applications may then go too. */
  async #removeDeadRelation(model: string, uuid: string): Promise<void> {
    const apps = await this.#tx(model, async (tx, ch) => {
      const locked =
        await tx`select 1 from relation.relation where uuid = ${uuid} and life = 'dead' for update`;
      if (locked.length === 0) return [];
      const r = (await readRelation(tx, model, uuid))!;
      if (r.unitsInScope.length > 0)
        throw fail("UnitsStillInScope", `relation ${JSON.stringify(r.key)} still has units in scope`);
      await tx`delete from relation.relation where uuid = ${uuid}`;
      ch.removed("relation", r.key);
      return r.endpoints.filter((e) => e.applicationLife !== "alive").map((e) => e.applicationUuid);
    });
    for (const app of apps) await this.#maybeRemoveApplication(model, app);
  }

  /** Removes relations left dead by an interrupted removal (called at start-up). */
  async removeDeadRelations(): Promise<number> {
    const rows = await this.sql<{ uuid: string; modelUuid: string }[]>`
      select uuid, model_uuid as "modelUuid" from relation.relation where life = 'dead'`;
    for (const r of rows) await this.#removeDeadRelation(r.modelUuid, r.uuid);
    return rows.length;
  }

  // ---- scope ----

  /** EnterScope (spec section 7.1), settings already without empty values. */
  async enterScope(
    model: string,
    relationUuid: string,
    unitName: string,
    settings: Record<string, string>,
  ): Promise<EnterScopeResult> {
    const supplied = dropEmpty(settings);
    validateSettingsKeys(supplied);
    return this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      // Concurrent EnterScope calls of one unit queue here, so the in-scope check below cannot race the insert.
      await tx`select 1 from relation.unit where model_uuid = ${model} and name = ${unitName} for update`;
      const [inScope] = await tx<{ uuid: string }[]>`
        select ru.uuid from relation.relation_unit ru
        join relation.relation_endpoint re on re.uuid = ru.relation_endpoint_uuid
        join relation.unit u on u.uuid = ru.unit_uuid
        where re.relation_uuid = ${relationUuid} and u.model_uuid = ${model} and u.name = ${unitName}`;
      if (inScope) {
        if (Object.keys(supplied).length > 0) {
          await replaceUnitSettings(tx, inScope.uuid, supplied);
          ch.settings();
        }
        return { relationUnitUuid: inScope.uuid, subordinateCreated: null };
      }
      const unit = await readUnit(tx, model, unitName);
      if (!unit) throw notFound.unit(unitName);
      const relation = await this.#lockRelation(tx, model, relationUuid, "share");
      if (relation.life !== "alive")
        throw fail(
          "CannotEnterScopeNotAlive",
          `cannot enter scope: relation ${JSON.stringify(relation.key)} is not alive`,
        );
      if (unit.life !== "alive")
        throw fail(
          "CannotEnterScopeNotAlive",
          `cannot enter scope: unit ${JSON.stringify(unit.name)} is not alive`,
        );
      const own = relation.endpoints.find((e) => e.applicationUuid === unit.applicationUuid);
      if (!own)
        throw fail(
          "UnitNotInRelation",
          `unit ${JSON.stringify(unit.name)} is not in relation ${JSON.stringify(relation.key)}`,
        );
      const other = relation.endpoints.find((e) => e !== own);
      if (own.subordinate && other && !other.subordinate && relation.scope === "container") {
        const principal = unit.principalUuid
          ? (
              await tx<{ applicationUuid: string }[]>`
              select application_uuid as "applicationUuid" from relation.unit where uuid = ${unit.principalUuid}`
            )[0]
          : undefined;
        if (principal?.applicationUuid !== other.applicationUuid)
          throw fail("PotentialRelationUnitNotValid", "principal application not in relation");
      }
      const relationUnitUuid = randomUUID();
      await tx`insert into relation.relation_unit (uuid, relation_endpoint_uuid, unit_uuid)
        values (${relationUnitUuid}, ${own.uuid}, ${unit.uuid})`;
      if (Object.keys(supplied).length > 0) await replaceUnitSettings(tx, relationUnitUuid, supplied);
      let subordinateCreated: UnitView | null = null;
      if (relation.scope === "container" && other?.subordinate) {
        subordinateCreated = await this.#ensureSubordinate(tx, model, unit, other, ch);
      }
      ch.relation(relationUuid);
      return { relationUnitUuid, subordinateCreated };
    });
  }

  /** Section 7.2: the principal's unit of the subordinate application, created if missing. */
  async #ensureSubordinate(
    tx: TransactionSql,
    model: string,
    entering: UnitView,
    sub: RelationEndpointView,
    ch: Changes,
  ): Promise<UnitView | null> {
    const principalUuid = entering.principalUuid ?? entering.uuid;
    const [existing] = await tx<{ name: string; life: Life }[]>`
      select name, life from relation.unit where application_uuid = ${sub.applicationUuid} and principal_uuid = ${principalUuid}`;
    if (existing) {
      if (existing.life === "alive") return null;
      throw fail(
        "CannotEnterScopeSubordinateNotAlive",
        `cannot enter scope: subordinate unit ${JSON.stringify(existing.name)} is not alive`,
      );
    }
    const [app] = await tx<{ life: Life }[]>`
      select life from relation.application where uuid = ${sub.applicationUuid} for update`;
    if (app!.life !== "alive")
      throw fail(
        "ApplicationNotAlive",
        `subordinate application ${JSON.stringify(sub.application)} is not alive`,
      );
    const [principal] = await tx<{ machine: string | null; name: string }[]>`
      select machine, name from relation.unit where uuid = ${principalUuid}`;
    if (!principal?.machine)
      throw fail(
        "UnitMachineNotAssigned",
        `principal unit ${JSON.stringify(principal?.name)} has no machine`,
      );
    const uuid = await insertNextUnit(
      tx,
      model,
      { uuid: sub.applicationUuid, name: sub.application },
      {
        machine: principal.machine,
        principalUuid,
        agentStatus: "allocating",
        workloadStatus: "waiting",
        workloadMessage: "waiting for machine",
      },
    );
    ch.unit(uuid);
    return (await readUnitByUUID(tx, uuid))!;
  }

  /** The unit's relation unit in the relation (RelationUnitNotFound when out of scope). */
  async getRelationUnit(model: string, relationUuid: string, unitName: string): Promise<string> {
    await this.#model(this.sql, model);
    const unit = await readUnit(this.sql, model, unitName);
    const ru = unit ? await readRelationUnit(this.sql, relationUuid, unit.uuid) : undefined;
    if (!ru)
      throw fail(
        "RelationUnitNotFound",
        `unit ${JSON.stringify(unitName)} is not in the scope of relation ${JSON.stringify(relationUuid)}`,
      );
    return ru.uuid;
  }

  /** The unit a relation unit belongs to, for authorization; undefined when there is no such relation unit. */
  async unitOfRelationUnit(model: string, relationUnitUuid: string): Promise<string | undefined> {
    const [row] = await this.sql<{ name: string }[]>`
      select u.name from relation.relation_unit ru join relation.unit u on u.uuid = ru.unit_uuid
      where ru.uuid = ${relationUnitUuid} and u.model_uuid = ${model}`;
    return row?.name;
  }

  /**
   * LeaveScope (spec section 7.3): archives the unit's settings and deletes its relation unit; the last unit
   * leaving a dying relation makes it dead, and it is then removed.
   */
  async leaveScope(model: string, relationUnitUuid: string): Promise<void> {
    const dead = await this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      const [ru] = await tx<{ relationUuid: string; unitName: string }[]>`
        select re.relation_uuid as "relationUuid", u.name as "unitName"
        from relation.relation_unit ru
        join relation.relation_endpoint re on re.uuid = ru.relation_endpoint_uuid
        join relation.unit u on u.uuid = ru.unit_uuid
        where ru.uuid = ${relationUnitUuid} and u.model_uuid = ${model}`;
      if (!ru)
        throw fail("RelationUnitNotFound", `relation unit ${JSON.stringify(relationUnitUuid)} not found`);
      const relation = await this.#lockRelation(tx, model, ru.relationUuid, "update");
      const locked =
        await tx`select 1 from relation.relation_unit where uuid = ${relationUnitUuid} for update`;
      if (locked.length === 0)
        throw fail("RelationUnitNotFound", `relation unit ${JSON.stringify(relationUnitUuid)} not found`);
      await tx`delete from relation.relation_unit_setting_archive
        where relation_uuid = ${ru.relationUuid} and unit_name = ${ru.unitName}`;
      await tx`insert into relation.relation_unit_setting_archive (relation_uuid, unit_name, key, value)
        select ${ru.relationUuid}, ${ru.unitName}, key, value from relation.relation_unit_setting
        where relation_unit_uuid = ${relationUnitUuid}`;
      await tx`delete from relation.relation_unit where uuid = ${relationUnitUuid}`;
      ch.relation(ru.relationUuid);
      const remaining = relation.unitsInScope.filter((u) => u !== ru.unitName);
      if (relation.life === "dying" && remaining.length === 0) {
        await tx`update relation.relation set life = 'dead' where uuid = ${ru.relationUuid}`;
        return ru.relationUuid;
      }
      return undefined;
    });
    if (dead) await this.#removeDeadRelation(model, dead);
  }

  // ---- settings ----

  async #relationUnitFor(
    tx: TransactionSql,
    model: string,
    relationUuid: string,
    unitName: string,
  ): Promise<{ uuid: string; relationEndpointUuid: string }> {
    const unit = await readUnit(tx, model, unitName);
    const ru = unit ? await readRelationUnit(tx, relationUuid, unit.uuid) : undefined;
    if (!ru)
      throw fail(
        "RelationUnitNotFound",
        `unit ${JSON.stringify(unitName)} is not in the scope of relation ${JSON.stringify(relationUuid)}`,
      );
    await tx`select 1 from relation.relation_unit where uuid = ${ru.uuid} for update`;
    return ru;
  }

  /** A unit's settings: current while in scope, else archived; RelationUnitNotFound when neither. */
  async getRelationUnitSettings(
    model: string,
    relationUuid: string,
    unitName: string,
  ): Promise<Record<string, string>> {
    await this.#model(this.sql, model);
    if (!(await readRelation(this.sql, model, relationUuid))) throw notFound.relation(relationUuid);
    const unit = await readUnit(this.sql, model, unitName);
    const ru = unit ? await readRelationUnit(this.sql, relationUuid, unit.uuid) : undefined;
    if (ru) return readUnitSettings(this.sql, ru.uuid);
    const archived = await this.sql<{ key: string; value: string }[]>`
      select key, value from relation.relation_unit_setting_archive
      where relation_uuid = ${relationUuid} and unit_name = ${unitName}`;
    if (archived.length === 0)
      throw fail(
        "RelationUnitNotFound",
        `unit ${JSON.stringify(unitName)} has no settings in relation ${JSON.stringify(relationUuid)}`,
      );
    return toSettings(archived);
  }

  /** Key-level write of a unit's own settings (empty value = delete); no leadership needed. */
  async setRelationUnitSettings(
    model: string,
    relationUuid: string,
    unitName: string,
    settings: Record<string, string>,
  ): Promise<void> {
    validateSettingsKeys(settings);
    await this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      const ru = await this.#relationUnitFor(tx, model, relationUuid, unitName);
      await updateUnitSettings(tx, ru.uuid, settings);
      ch.settings();
    });
  }

  /** One side's application settings (RelationNotFound, ApplicationNotFoundForRelation). */
  async getRelationApplicationSettings(
    model: string,
    relationUuid: string,
    application: string,
  ): Promise<Record<string, string>> {
    await this.#model(this.sql, model);
    const relation = await readRelation(this.sql, model, relationUuid);
    if (!relation) throw notFound.relation(relationUuid);
    const side = relation.endpoints.find((e) => e.application === application);
    if (!side)
      throw fail(
        "ApplicationNotFoundForRelation",
        `application ${JSON.stringify(application)} is not in relation ${JSON.stringify(relation.key)}`,
      );
    return readApplicationSettings(this.sql, side.uuid);
  }

  /**
   * Writes application settings (under leadership: the claim is checked in this transaction) and unit settings,
   * key by key. Null application settings need no leadership; both null is a no-op.
   */
  async setRelationApplicationAndUnitSettings(
    model: string,
    relationUuid: string,
    claim: LeadershipClaim,
    appSettings: Record<string, string> | null,
    unitSettings: Record<string, string> | null,
  ): Promise<void> {
    if (appSettings === null && unitSettings === null) return;
    if (appSettings) validateSettingsKeys(appSettings);
    if (unitSettings) validateSettingsKeys(unitSettings);
    await this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      const ru = await this.#relationUnitFor(tx, model, relationUuid, claim.unit);
      if (appSettings !== null) {
        await checkLeadership(tx, model, claim);
        await tx`select 1 from relation.relation_endpoint where uuid = ${ru.relationEndpointUuid} for update`;
        await updateApplicationSettings(tx, ru.relationEndpointUuid, appSettings);
      }
      if (unitSettings !== null) await updateUnitSettings(tx, ru.uuid, unitSettings);
      ch.settings();
    });
  }

  // ---- status ----

  /** SetRelationStatus (spec section 10): the caller must lead its application; transitions are checked. */
  async setRelationStatus(
    model: string,
    relationUuid: string,
    claim: LeadershipClaim,
    status: string,
    message: string,
  ): Promise<void> {
    await this.#tx(model, async (tx, ch) => {
      await this.#model(tx, model);
      await checkLeadership(tx, model, claim);
      const relation = await this.#lockRelation(tx, model, relationUuid, "update");
      const stored = checkStatusTransition(relation.status, status, message, relation.statusMessage);
      await tx`insert into relation.relation_status (relation_uuid, status, message, updated_at)
        values (${relationUuid}, ${status}, ${stored}, ${new Date(this.clock.now()).toISOString()})
        on conflict (relation_uuid) do update set status = excluded.status, message = excluded.message,
          updated_at = excluded.updated_at`;
      ch.relation(relationUuid);
    });
  }

  // ---- leadership projection ----

  /** Applies a leader event to the projection (the holder and term the leadership service published). */
  async applyLeader(
    tx: TransactionSql,
    model: string,
    application: string,
    holder: string,
    term: number,
  ): Promise<void> {
    await tx`insert into relation.leader (model_uuid, application, holder, term)
      values (${model}, ${application}, ${holder}, ${term})
      on conflict (model_uuid, application) do update set holder = excluded.holder, term = excluded.term
      where relation.leader.term <= excluded.term`;
  }
}

/** Fails with NotHeld unless the projection says the unit leads its application with the presented term. */
async function checkLeadership(tx: TransactionSql, model: string, claim: LeadershipClaim): Promise<void> {
  const application = claim.unit.slice(0, claim.unit.lastIndexOf("/"));
  const [row] = await tx<{ holder: string; term: string }[]>`
    select holder, term from relation.leader where model_uuid = ${model} and application = ${application} for share`;
  if (!row || row.holder !== claim.unit || Number(row.term) !== claim.term)
    throw fail(
      "NotHeld",
      `${JSON.stringify(claim.unit)} is not leader of ${JSON.stringify(application)} (term ${claim.term})`,
    );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parseStoredBase(base: string) {
  try {
    return parseBase(base);
  } catch {
    return undefined;
  }
}

/** Replaces a unit's settings wholesale and rewrites their hash (QuotaLimitExceeded when too large). */
export async function replaceUnitSettings(
  tx: TransactionSql,
  relationUnitUuid: string,
  settings: Record<string, string>,
): Promise<void> {
  checkSettingsSize(settings);
  await tx`delete from relation.relation_unit_setting where relation_unit_uuid = ${relationUnitUuid}`;
  const rows = Object.entries(settings).map(([key, value]) => ({
    relation_unit_uuid: relationUnitUuid,
    key,
    value,
  }));
  if (rows.length > 0) await tx`insert into relation.relation_unit_setting ${tx(rows)}`;
  await tx`insert into relation.relation_unit_settings_hash (relation_unit_uuid, sha256)
    values (${relationUnitUuid}, ${settingsHash(settings)})
    on conflict (relation_unit_uuid) do update set sha256 = excluded.sha256`;
}

async function updateUnitSettings(
  tx: TransactionSql,
  relationUnitUuid: string,
  changes: Record<string, string>,
) {
  const { set, unset } = splitSettings(changes);
  const current = await readUnitSettings(tx, relationUnitUuid);
  for (const k of unset) delete current[k];
  await replaceUnitSettings(tx, relationUnitUuid, { ...current, ...set });
}

async function updateApplicationSettings(
  tx: TransactionSql,
  relationEndpointUuid: string,
  changes: Record<string, string>,
) {
  const { set, unset } = splitSettings(changes);
  const settings = await readApplicationSettings(tx, relationEndpointUuid);
  for (const k of unset) delete settings[k];
  Object.assign(settings, set);
  checkSettingsSize(settings);
  await tx`delete from relation.relation_application_setting where relation_endpoint_uuid = ${relationEndpointUuid}`;
  const rows = Object.entries(settings).map(([key, value]) => ({
    relation_endpoint_uuid: relationEndpointUuid,
    key,
    value,
  }));
  if (rows.length > 0) await tx`insert into relation.relation_application_setting ${tx(rows)}`;
  await tx`insert into relation.relation_application_settings_hash (relation_endpoint_uuid, sha256)
    values (${relationEndpointUuid}, ${settingsHash(settings)})
    on conflict (relation_endpoint_uuid) do update set sha256 = excluded.sha256`;
}

/** Inserts an application with exactly these endpoints; returns its UUID. */
export async function insertApplication(
  tx: TransactionSql,
  model: string,
  args: DeployArgs & { life?: Life },
): Promise<string> {
  const uuid = randomUUID();
  await tx`insert into relation.application (uuid, model_uuid, name, life, subordinate, remote, base)
    values (${uuid}, ${model}, ${args.name}, ${args.life ?? "alive"}, ${args.subordinate}, ${args.remote},
      ${args.base || null})`;
  const rows = args.endpoints.map((e) => ({
    uuid: randomUUID(),
    application_uuid: uuid,
    name: e.name,
    role: e.role,
    interface: e.interface,
    scope: e.scope,
    capacity: e.capacity,
    optional: e.optional,
  }));
  if (rows.length > 0) await tx`insert into relation.application_endpoint ${tx(rows)}`;
  return uuid;
}

/** Inserts a relation with its status and endpoints; returns its UUID. */
export async function insertRelation(
  tx: TransactionSql,
  model: string,
  args: {
    id: number;
    life: Life;
    status: RelationStatus;
    statusMessage: string;
    since: Date;
    scope: Scope;
    suspended?: boolean;
    endpointUuids: string[];
  },
): Promise<string> {
  const uuid = randomUUID();
  await tx`insert into relation.relation (uuid, model_uuid, relation_id, life, suspended, scope)
    values (${uuid}, ${model}, ${args.id}, ${args.life}, ${args.suspended ?? false}, ${args.scope})`;
  await tx`insert into relation.relation_status (relation_uuid, status, message, updated_at)
    values (${uuid}, ${args.status}, ${args.statusMessage}, ${args.since.toISOString()})`;
  for (const ep of args.endpointUuids)
    await tx`insert into relation.relation_endpoint (uuid, relation_uuid, endpoint_uuid)
      values (${randomUUID()}, ${uuid}, ${ep})`;
  return uuid;
}

/** Inserts the application's next unit `app/N`; returns its UUID. */
export async function insertNextUnit(
  tx: TransactionSql,
  model: string,
  app: { uuid: string; name: string },
  args: {
    machine: string | null;
    principalUuid: string | null;
    agentStatus: string;
    workloadStatus: string;
    workloadMessage: string;
    life?: Life;
  },
): Promise<string> {
  const [row] = await tx<{ n: number }[]>`
    update relation.application set next_unit_number = next_unit_number + 1 where uuid = ${app.uuid}
    returning next_unit_number - 1 as n`;
  const uuid = randomUUID();
  await tx`insert into relation.unit (uuid, model_uuid, application_uuid, name, life, machine, principal_uuid,
      agent_status, workload_status, workload_message)
    values (${uuid}, ${model}, ${app.uuid}, ${`${app.name}/${row!.n}`}, ${args.life ?? "alive"}, ${args.machine},
      ${args.principalUuid}, ${args.agentStatus}, ${args.workloadStatus}, ${args.workloadMessage})`;
  return uuid;
}
