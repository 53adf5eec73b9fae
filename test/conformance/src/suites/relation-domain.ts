// Runs relation-domain.json against the real relation service: one service on a fresh Postgres database, one new
// model per case seeded directly through the service's store, the action through the gRPC API over a real
// socket, then the outcome and the asserted state compared as the file's conventions say. A failed call must
// leave the model's rows exactly as set up. The `deferred` list (suspension) is not run.
import { isDeepStrictEqual } from "node:util";
import { type ConcordError, parseTag, unitTag } from "@concord/grpc";
import { Life } from "@concord/proto/events/v1/events";
import {
  ApplicationService,
  EndpointRole,
  EndpointScope,
  RelationService,
  RelationStatus,
} from "@concord/proto/relation/v1/relation";
import { Seeder, snapshotModel, startTestService, type TestService } from "@concord/relation/testing";
import type { Suite } from "../types";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

interface CaseEndpoint {
  name: string;
  role: "provides" | "requires" | "peer";
  interface: string;
  scope: "global" | "container";
  limit: number;
}
interface CaseApplication {
  name: string;
  subordinate: boolean;
  life: "alive" | "dying" | "dead";
  remote?: boolean;
  base?: string;
  endpoints: CaseEndpoint[];
}
interface CaseRelation {
  ref: string;
  endpoints: string[];
  id: number;
  life: "alive" | "dying" | "dead";
  status: "joining" | "joined" | "broken" | "suspending" | "suspended" | "error";
  status_message?: string;
  suspended: boolean;
  scope?: "global" | "container";
}
interface CaseUnit {
  name: string;
  life: "alive" | "dying" | "dead";
  machine: string;
  principal?: string;
  in_scope: string[];
  settings?: Record<string, Record<string, Json>>;
}
interface Case {
  id: string;
  name: string;
  setup: {
    implicit_juju_info?: boolean;
    applications: CaseApplication[];
    relations: CaseRelation[];
    units: CaseUnit[];
    sequence_next: number;
    leaders?: Record<string, string>;
    settings_archive?: Record<string, Record<string, Record<string, string>>>;
  };
  action: { op: string; args: Obj };
  expect: {
    ok: boolean;
    error?: string | string[];
    message_contains?: string;
    result?: Obj;
    state?: Obj;
  };
}

/** The leadership term the harness seeds for every leader and presents for every leader-only write. */
const TERM = 1;

const ROLE_FROM_SECTION = { provides: "provider", requires: "requirer", peer: "peer" } as const;
const ROLE_NAME: Record<number, string> = {
  [EndpointRole.PROVIDER]: "provider",
  [EndpointRole.REQUIRER]: "requirer",
  [EndpointRole.PEER]: "peer",
};
const ROLE_PB: Record<string, EndpointRole> = {
  provider: EndpointRole.PROVIDER,
  requirer: EndpointRole.REQUIRER,
  peer: EndpointRole.PEER,
};
const SCOPE_NAME: Record<number, string> = {
  [EndpointScope.GLOBAL]: "global",
  [EndpointScope.CONTAINER]: "container",
};
const LIFE_NAME: Record<number, string> = {
  [Life.ALIVE]: "alive",
  [Life.DYING]: "dying",
  [Life.DEAD]: "dead",
};
const STATUS_PB: Record<string, RelationStatus> = {
  joining: RelationStatus.JOINING,
  joined: RelationStatus.JOINED,
  broken: RelationStatus.BROKEN,
  suspending: RelationStatus.SUSPENDING,
  suspended: RelationStatus.SUSPENDED,
  error: RelationStatus.ERROR,
};
const STATUS_NAME = Object.fromEntries(Object.entries(STATUS_PB).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

/** A settings argument: null stays null; `{generated_value_bytes: N}` becomes N bytes. */
function settingsArg(value: Json | undefined): Record<string, string> | null {
  if (value === null || value === undefined) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Obj)) {
    if (v !== null && typeof v === "object" && "generated_value_bytes" in v)
      out[k] = "x".repeat(Number((v as Obj).generated_value_bytes));
    else out[k] = String(v);
  }
  return out;
}

/** Whether `actual` matches `expected` partially (objects: listed fields; lists: same length, in order). */
function partialMatch(expected: Json, actual: unknown, path: string): string | undefined {
  if (expected === null || typeof expected !== "object") {
    return isDeepStrictEqual(expected, actual)
      ? undefined
      : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
    for (const [i, e] of expected.entries()) {
      const f = partialMatch(e, actual[i], `${path}[${i}]`);
      if (f) return f;
    }
    return undefined;
  }
  if (actual === null || typeof actual !== "object")
    return `${path}: expected an object, got ${JSON.stringify(actual)}`;
  for (const [k, e] of Object.entries(expected)) {
    const f = partialMatch(e, (actual as Record<string, unknown>)[k], `${path}.${k}`);
    if (f) return f;
  }
  return undefined;
}

class CaseRun {
  model = "";
  readonly refs = new Map<string, string>();
  readonly leaders = new Map<string, string>();

  constructor(
    private readonly svc: TestService,
    private readonly c: Case,
  ) {}

  async seed(): Promise<void> {
    const s = this.c.setup;
    this.model = await Seeder.createModel(
      this.svc.db.sql,
      `case-${this.c.id}-${Math.random().toString(36).slice(2, 8)}`,
    );
    await Seeder.run(this.svc.db.sql, this.model, async (seed) => {
      for (const app of s.applications) {
        const endpoints = app.endpoints.map((e) => ({
          name: e.name,
          role: ROLE_FROM_SECTION[e.role],
          interface: e.interface,
          scope: e.scope,
          capacity: e.limit,
          optional: false,
        }));
        if (s.implicit_juju_info && !app.remote && !endpoints.some((e) => e.name === "juju-info"))
          endpoints.push({
            name: "juju-info",
            role: "provider",
            interface: "juju-info",
            scope: "global",
            capacity: 0,
            optional: false,
          });
        await seed.application({
          name: app.name,
          subordinate: app.subordinate,
          remote: !!app.remote,
          life: app.life,
          base: app.base ?? "",
          endpoints,
        });
      }
      for (const r of s.relations) {
        this.refs.set(
          r.ref,
          await seed.relation({
            endpoints: r.endpoints,
            id: r.id,
            life: r.life,
            status: r.status,
            statusMessage: r.status_message ?? "",
            suspended: r.suspended,
            scope: r.scope,
          }),
        );
      }
      const units = [...s.units].sort((a, b) => Number(!!a.principal) - Number(!!b.principal));
      for (const u of units) {
        const uuid = await seed.unit({
          name: u.name,
          life: u.life,
          machine: u.machine,
          principal: u.principal,
        });
        for (const ref of u.in_scope) {
          const settings = u.settings?.[ref];
          await seed.inScope(this.relation(ref), uuid, settings ? settingsArg(settings)! : undefined);
        }
      }
      await seed.sequenceNext(s.sequence_next);
      for (const [app, holder] of Object.entries(s.leaders ?? {})) {
        this.leaders.set(app, holder);
        await seed.leader(app, holder, TERM);
      }
      for (const [ref, byUnit] of Object.entries(s.settings_archive ?? {}))
        for (const [unit, settings] of Object.entries(byUnit))
          await seed.archive(this.relation(ref), unit, settings);
    });
  }

  /** A relation argument: a setup ref, else the string itself (an unknown or malformed UUID). */
  relation(arg: Json | undefined): string {
    const s = String(arg ?? "");
    return this.refs.get(s) ?? s;
  }

  refOf(uuid: string): string {
    for (const [ref, u] of this.refs) if (u === uuid) return ref;
    return uuid;
  }

  /** The identity an agent call is made as: the unit's own agent when the name makes a tag, else admin. */
  asUnit(unit: string): string {
    try {
      parseTag(unitTag(unit));
      return unitTag(unit);
    } catch {
      return "admin";
    }
  }

  /** Runs the action; returns the result object the case's `result` is compared with. */
  async act(): Promise<Obj> {
    const { op, args } = this.c.action;
    const rel = await this.svc.client(RelationService);
    const modelUuid = this.model;
    switch (op) {
      case "add_relation": {
        const res = await rel.addRelation({
          modelUuid,
          endpoint1: String(args.ep1),
          endpoint2: String(args.ep2),
          viaCidrs: ((args.cidrs as string[] | undefined) ?? []).map(String),
        });
        const r = res.relation!;
        return {
          relation_id: r.id,
          key: r.key,
          life: LIFE_NAME[r.life] ?? "",
          status: STATUS_NAME[r.status] ?? "",
          suspended: r.suspended,
          scope: SCOPE_NAME[r.scope] ?? "",
          endpoints: res.endpoints.map((e) => ({
            application: e.application,
            name: e.name,
            role: ROLE_NAME[e.role] ?? "",
            interface: e.interface,
            scope: SCOPE_NAME[e.scope] ?? "",
            limit: e.limit,
          })),
        };
      }
      case "deploy": {
        const app = args.application as unknown as CaseApplication;
        const apps = await this.svc.client(ApplicationService);
        const res = await apps.deployApplication({
          modelUuid,
          name: app.name,
          subordinate: app.subordinate,
          remote: !!app.remote,
          base: app.base ?? "",
          endpoints: app.endpoints.map((e) => ({
            name: e.name,
            role: ROLE_PB[ROLE_FROM_SECTION[e.role]],
            interface: e.interface,
            scope: e.scope === "container" ? EndpointScope.CONTAINER : EndpointScope.GLOBAL,
            limit: e.limit,
          })),
        });
        return {
          peer_relations: res.peerRelations.map((r) => ({
            key: r.key,
            relation_id: r.id,
            life: LIFE_NAME[r.life] ?? "",
            status: STATUS_NAME[r.status] ?? "",
            scope: SCOPE_NAME[r.scope] ?? "",
          })),
        };
      }
      case "enter_scope": {
        const unit = String(args.unit);
        const client = await this.svc.client(RelationService, this.asUnit(unit));
        const res = await client.enterScope({
          modelUuid,
          relationUuid: this.relation(args.relation),
          unit,
          settings: settingsArg(args.settings) ?? {},
        });
        const sub = res.subordinateCreated;
        return {
          subordinate_created: sub
            ? {
                name: sub.name,
                principal: sub.principal,
                machine: sub.machine,
                agent_status: sub.agentStatus?.current ?? "",
                workload_status: sub.workloadStatus?.current ?? "",
              }
            : null,
        };
      }
      case "leave_scope": {
        const unit = String(args.unit);
        const client = await this.svc.client(RelationService, this.asUnit(unit));
        const { relationUnitUuid } = await client.getRelationUnit({
          modelUuid,
          relationUuid: this.relation(args.relation),
          unit,
        });
        await client.leaveScope({ modelUuid, relationUnitUuid });
        return {};
      }
      case "remove_relation":
        await rel.removeRelation({
          modelUuid,
          relationUuid: this.relation(args.relation),
          force: !!args.force,
          waitSeconds: Number(args.wait ?? 0),
        });
        return {};
      case "set_relation_status": {
        const unit = String(args.unit);
        const client = await this.svc.client(RelationService, this.asUnit(unit));
        await client.setRelationStatus({
          modelUuid,
          relationUuid: this.relation(args.relation),
          unit,
          status: STATUS_PB[String(args.status)] ?? RelationStatus.UNSPECIFIED,
          message: String(args.message ?? ""),
          leadershipTerm: BigInt(TERM),
        });
        return {};
      }
      case "set_unit_settings": {
        const unit = String(args.unit);
        const client = await this.svc.client(RelationService, this.asUnit(unit));
        const settings = settingsArg(args.settings);
        await client.setRelationUnitSettings({
          modelUuid,
          relationUuid: this.relation(args.relation),
          unit,
          settings: settings === null ? undefined : { values: settings },
        });
        return {};
      }
      case "set_app_and_unit_settings": {
        const unit = String(args.unit);
        const client = await this.svc.client(RelationService, this.asUnit(unit));
        const app = settingsArg(args.app_settings);
        const own = settingsArg(args.unit_settings);
        await client.setRelationApplicationAndUnitSettings({
          modelUuid,
          relationUuid: this.relation(args.relation),
          unit,
          applicationSettings: app === null ? undefined : { values: app },
          unitSettings: own === null ? undefined : { values: own },
          leadershipTerm: BigInt(TERM),
        });
        return {};
      }
      case "get_relation_unit_settings": {
        const res = await rel.getRelationUnitSettings({
          modelUuid,
          relationUuid: this.relation(args.relation),
          unit: String(args.unit),
        });
        return { settings: res.settings };
      }
      case "get_relation_application_settings": {
        const res = await rel.getRelationApplicationSettings({
          modelUuid,
          relationUuid: this.relation(args.relation),
          application: String(args.application),
        });
        return { settings: res.settings };
      }
      case "get_relation_endpoint_uuid": {
        let applicationUuid = String(args.application_uuid ?? "");
        if (args.application !== undefined) {
          const apps = await this.svc.client(ApplicationService);
          applicationUuid = (await apps.getApplication({ modelUuid, name: String(args.application) }))
            .application!.uuid;
        }
        const res = await rel.getRelationEndpointUUID({
          modelUuid,
          relationUuid: this.relation(args.relation),
          applicationUuid,
        });
        return { relation_endpoint_uuid: res.relationEndpointUuid };
      }
      case "get_relation_key": {
        const res = await rel.getRelation({
          modelUuid,
          by: { case: "uuid", value: this.relation(args.relation) },
        });
        return { key: res.relation!.key };
      }
      case "get_relation_uuid_by_key": {
        const key = args.key;
        const res = await rel.getRelation({
          modelUuid,
          by:
            typeof key === "string"
              ? { case: "key", value: key }
              : {
                  case: "keyEndpoints",
                  value: {
                    endpoints: (key as Obj[]).map((e) => ({
                      application: String(e.application),
                      endpoint: String(e.endpoint),
                      role: ROLE_PB[String(e.role)] ?? EndpointRole.UNSPECIFIED,
                    })),
                  },
                },
        });
        return { relation: this.refOf(res.relation!.uuid) };
      }
      case "get_relation_uuid_for_removal": {
        const res = await rel.getRelationUUIDForRemoval(
          args.endpoints !== undefined
            ? { modelUuid, endpoints: (args.endpoints as Json[]).map(String) }
            : { modelUuid, relationId: Number(args.relation_id) },
        );
        return { relation: this.refOf(res.relationUuid) };
      }
      default:
        throw new Error(`unknown op ${op}`);
    }
  }

  /** Compares the asserted parts of the model's state; returns the first mismatch. */
  async checkState(state: Obj): Promise<string | undefined> {
    const rel = await this.svc.client(RelationService);
    const sql = this.svc.db.sql;
    const modelUuid = this.model;
    const all = (await rel.listRelations({ modelUuid })).relations;
    for (const [part, expected] of Object.entries(state)) {
      if (part === "sequence_next") {
        const [row] = await sql<{ n: number }[]>`
          select next_value as n from relation.sequence where model_uuid = ${modelUuid} and namespace = 'relation'`;
        if (row?.n !== expected) return `state.sequence_next: expected ${expected}, got ${row?.n}`;
      } else if (part === "relation_count") {
        if (all.length !== expected) return `state.relation_count: expected ${expected}, got ${all.length}`;
      } else if (part === "relations") {
        for (const [ref, want] of Object.entries(expected as Obj)) {
          const got = await rel
            .getRelation({ modelUuid, by: { case: "uuid", value: this.relation(ref) } })
            .then((r) => r.relation!)
            .catch((e: ConcordError) => e);
          if (want === null) {
            if (!("kind" in got) || got.kind !== "RelationNotFound")
              return `state.relations.${ref}: expected RelationNotFound, got ${"kind" in got ? got.kind : "a relation"}`;
            continue;
          }
          if ("kind" in got) return `state.relations.${ref}: ${got.kind}: ${got.message}`;
          const f = partialMatch(
            want,
            {
              life: LIFE_NAME[got.life],
              status: STATUS_NAME[got.status],
              status_message: got.statusMessage,
              suspended: got.suspended,
              scope: SCOPE_NAME[got.scope],
              key: got.key,
              relation_id: got.id,
            },
            `state.relations.${ref}`,
          );
          if (f) return f;
        }
      } else if (part === "units") {
        for (const [unit, want] of Object.entries(expected as Obj)) {
          const w = want as Obj;
          if (w.in_scope !== undefined) {
            const got = all.filter((r) => r.unitsInScope.includes(unit)).map((r) => this.refOf(r.uuid));
            const exp = (w.in_scope as string[]).map(String);
            if (!isDeepStrictEqual([...got].sort(), [...exp].sort()))
              return `state.units.${unit}.in_scope: expected ${JSON.stringify(exp)}, got ${JSON.stringify(got)}`;
          }
          if (w.settings !== undefined) {
            for (const [ref, settings] of Object.entries(w.settings as Obj)) {
              const got = await rel
                .getRelationUnitSettings({ modelUuid, relationUuid: this.relation(ref), unit })
                .then((r) => r.settings)
                .catch((e: ConcordError) => `${e.kind}: ${e.message}`);
              if (!isDeepStrictEqual(got, settings))
                return `state.units.${unit}.settings.${ref}: expected ${JSON.stringify(settings)}, got ${JSON.stringify(got)}`;
            }
          }
          if (w.principal !== undefined) {
            const apps = await this.svc.client(ApplicationService);
            const got = await apps
              .getUnit({ modelUuid, name: unit })
              .then((r) => r.unit!.principal)
              .catch((e: ConcordError) => `${e.kind}`);
            if (got !== w.principal)
              return `state.units.${unit}.principal: expected ${JSON.stringify(w.principal)}, got ${JSON.stringify(got)}`;
          }
        }
      } else if (part === "settings_archive") {
        for (const [ref, byUnit] of Object.entries(expected as Obj)) {
          const rows = await sql<{ unit_name: string; key: string; value: string }[]>`
            select unit_name, key, value from relation.relation_unit_setting_archive
            where relation_uuid::text = ${this.relation(ref)}`;
          const got: Record<string, Record<string, string>> = {};
          for (const r of rows) got[r.unit_name] = { ...got[r.unit_name], [r.key]: r.value };
          if (!isDeepStrictEqual(got, byUnit))
            return `state.settings_archive.${ref}: expected ${JSON.stringify(byUnit)}, got ${JSON.stringify(got)}`;
        }
      } else return `state.${part}: not understood by the harness`;
    }
    return undefined;
  }

  /** Runs the case; undefined when it passed, else why not. */
  async run(): Promise<string | undefined> {
    await this.seed();
    const expect = this.c.expect;
    const before = expect.ok ? "" : await snapshotModel(this.svc.db.sql, this.model);
    let result: Obj | undefined;
    let error: ConcordError | undefined;
    try {
      result = await this.act();
    } catch (e) {
      error = e as ConcordError;
    }
    if (expect.ok) {
      if (error) return `expected success, got ${error.kind ?? "error"}: ${error.message}`;
      if (expect.result) {
        const f = partialMatch(expect.result, result, "result");
        if (f) return f;
      }
    } else {
      if (!error) return `expected ${JSON.stringify(expect.error)}, got success`;
      if (!error.kind) return `expected ${JSON.stringify(expect.error)}, got ${error.stack}`;
      const kinds = [error.kind, ...(error.details?.kinds?.split(",") ?? [])];
      const wanted =
        expect.error === undefined ? [] : Array.isArray(expect.error) ? expect.error : [expect.error];
      for (const k of wanted) {
        if (k !== "untyped" && !kinds.includes(k))
          return `expected error ${k}, got ${kinds.join("+")}: ${error.message}`;
      }
      if (expect.message_contains && !error.message.includes(expect.message_contains))
        return `error message ${JSON.stringify(error.message)} lacks ${JSON.stringify(expect.message_contains)}`;
      const after = await snapshotModel(this.svc.db.sql, this.model);
      if (after !== before) return "the failed call changed the model's state";
    }
    if (expect.state) return this.checkState(expect.state);
    return undefined;
  }
}

export const suite: Suite = async (doc, report) => {
  const { cases } = doc as { cases: Case[] };
  const svc = await startTestService();
  try {
    for (const c of cases) {
      let failure: string | undefined;
      try {
        failure = await new CaseRun(svc, c).run();
      } catch (err) {
        failure = `harness error: ${(err as Error).stack ?? err}`;
      }
      report({ id: c.id, name: c.name, failure });
    }
  } finally {
    await svc.stop();
  }
};
