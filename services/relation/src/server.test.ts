// The relation service over a real socket on real Postgres: bad input and wrong identities on every RPC (right
// code and kind, database unchanged), leadership fencing, change events, life to removal, and watchers across
// two replicas.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { subjectFor } from "@concord/events";
import { Code, type ConcordError, unitTag } from "@concord/grpc";
import { type ChangeEvent, ChangeEventSchema, Life } from "@concord/proto/events/v1/events";
import {
  ApplicationService,
  EndpointRole,
  EndpointScope,
  ModelService,
  type Relation,
  RelationService,
  RelationStatus,
} from "@concord/proto/relation/v1/relation";
import { Seeder, snapshotModel, startTestService, type TestService } from "./testing";

let svc: TestService;
let model = "";
let relation = "";
let relationUnit = "";
const UNKNOWN = "00000000-0000-4000-8000-00000000abcd";

const endpoint = (name: string, role: EndpointRole, iface: string) => ({
  name,
  role,
  interface: iface,
  scope: EndpointScope.GLOBAL,
});

before(async () => {
  svc = await startTestService();
  const models = await svc.client(ModelService);
  const apps = await svc.client(ApplicationService);
  const rel = await svc.client(RelationService);
  model = (await models.createModel({ name: "test" })).model!.uuid;
  await apps.deployApplication({
    modelUuid: model,
    name: "wp",
    endpoints: [
      endpoint("db", EndpointRole.REQUIRER, "mysql"),
      endpoint("website", EndpointRole.PROVIDER, "http"),
    ],
  });
  await apps.deployApplication({
    modelUuid: model,
    name: "mysql",
    endpoints: [
      endpoint("server", EndpointRole.PROVIDER, "mysql"),
      endpoint("cluster", EndpointRole.PEER, "c"),
    ],
  });
  await apps.deployApplication({ modelUuid: model, name: "other", endpoints: [] });
  for (const [app, machine] of [
    ["wp", "0"],
    ["wp", "1"],
    ["mysql", "2"],
    ["other", "3"],
  ] as const)
    await apps.addUnit({ modelUuid: model, application: app, machine });
  relation = (await rel.addRelation({ modelUuid: model, endpoint1: "wp", endpoint2: "mysql" })).relation!
    .uuid;
  const wp0 = await svc.client(RelationService, "unit-wp-0");
  relationUnit = (await wp0.enterScope({ modelUuid: model, relationUuid: relation, unit: "wp/0" }))
    .relationUnitUuid;
  await Seeder.run(svc.db.sql, model, (s) => s.leader("wp", "wp/0", 3));
});

after(() => svc.stop());

/** Reads the outbox's events after `id`. */
async function eventsAfter(id: number): Promise<{ id: number; event: ChangeEvent }[]> {
  const rows = await svc.db.sql<{ id: string; payload: Uint8Array }[]>`
    select id, payload from relation.outbox where id > ${id} order by id`;
  return rows.map((r) => ({ id: Number(r.id), event: fromBinary(ChangeEventSchema, r.payload) }));
}

async function lastOutboxId(): Promise<number> {
  const [row] = await svc.db.sql<{ id: string | null }[]>`select max(id) as id from relation.outbox`;
  return Number(row?.id ?? 0);
}

type Call = (c: {
  models: Awaited<ReturnType<typeof svc.client<typeof ModelService>>>;
  apps: Awaited<ReturnType<typeof svc.client<typeof ApplicationService>>>;
  rel: Awaited<ReturnType<typeof svc.client<typeof RelationService>>>;
}) => Promise<unknown>;

/** [name, caller tag, call, expected code, expected kind]. */
const badInput: [string, string, Call, Code, string][] = [
  [
    "CreateModel empty name",
    "admin",
    ({ models }) => models.createModel({ name: "" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "CreateModel malformed name",
    "admin",
    ({ models }) => models.createModel({ name: "Bad Name" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "CreateModel duplicate",
    "admin",
    ({ models }) => models.createModel({ name: "test" }),
    Code.ALREADY_EXISTS,
    "ModelAlreadyExists",
  ],
  [
    "CreateModel as a unit",
    "unit-wp-0",
    ({ models }) => models.createModel({ name: "x" }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "ListModels as a unit",
    "unit-wp-0",
    ({ models }) => models.listModels({}),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "DestroyModel malformed uuid",
    "admin",
    ({ models }) => models.destroyModel({ modelUuid: "nope" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "DestroyModel unknown",
    "admin",
    ({ models }) => models.destroyModel({ modelUuid: UNKNOWN }),
    Code.NOT_FOUND,
    "ModelNotFound",
  ],
  [
    "DestroyModel as a unit",
    "unit-wp-0",
    ({ models }) => models.destroyModel({ modelUuid: model }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "Deploy unknown model",
    "admin",
    ({ apps }) => apps.deployApplication({ modelUuid: UNKNOWN, name: "x" }),
    Code.NOT_FOUND,
    "ModelNotFound",
  ],
  [
    "Deploy empty name",
    "admin",
    ({ apps }) => apps.deployApplication({ modelUuid: model, name: "" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "Deploy malformed base",
    "admin",
    ({ apps }) => apps.deployApplication({ modelUuid: model, name: "x", base: "ubuntu" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "Deploy endpoint without role",
    "admin",
    ({ apps }) =>
      apps.deployApplication({ modelUuid: model, name: "x", endpoints: [{ name: "a", interface: "i" }] }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "Deploy duplicate endpoint",
    "admin",
    ({ apps }) =>
      apps.deployApplication({
        modelUuid: model,
        name: "x",
        endpoints: [endpoint("a", EndpointRole.PROVIDER, "i"), endpoint("a", EndpointRole.REQUIRER, "i")],
      }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "Deploy existing",
    "admin",
    ({ apps }) => apps.deployApplication({ modelUuid: model, name: "wp" }),
    Code.ALREADY_EXISTS,
    "ApplicationAlreadyExists",
  ],
  [
    "Deploy as a unit",
    "unit-wp-0",
    ({ apps }) => apps.deployApplication({ modelUuid: model, name: "x" }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "GetApplication empty",
    "admin",
    ({ apps }) => apps.getApplication({ modelUuid: model, name: "" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "GetApplication unknown",
    "admin",
    ({ apps }) => apps.getApplication({ modelUuid: model, name: "nope" }),
    Code.NOT_FOUND,
    "ApplicationNotFound",
  ],
  [
    "GetApplication of another application",
    "unit-wp-0",
    ({ apps }) => apps.getApplication({ modelUuid: model, name: "mysql" }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "ListApplications unknown model",
    "admin",
    ({ apps }) => apps.listApplications({ modelUuid: UNKNOWN }),
    Code.NOT_FOUND,
    "ModelNotFound",
  ],
  [
    "RemoveApplication unknown",
    "admin",
    ({ apps }) => apps.removeApplication({ modelUuid: model, name: "nope" }),
    Code.NOT_FOUND,
    "ApplicationNotFound",
  ],
  [
    "RemoveApplication as a unit",
    "unit-wp-0",
    ({ apps }) => apps.removeApplication({ modelUuid: model, name: "wp" }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "AddUnit empty application",
    "admin",
    ({ apps }) => apps.addUnit({ modelUuid: model, application: "" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "AddUnit unknown application",
    "admin",
    ({ apps }) => apps.addUnit({ modelUuid: model, application: "nope" }),
    Code.NOT_FOUND,
    "ApplicationNotFound",
  ],
  [
    "GetUnit malformed",
    "admin",
    ({ apps }) => apps.getUnit({ modelUuid: model, name: "wp" }),
    Code.INVALID_ARGUMENT,
    "InvalidUnitName",
  ],
  [
    "GetUnit unknown",
    "admin",
    ({ apps }) => apps.getUnit({ modelUuid: model, name: "wp/9" }),
    Code.NOT_FOUND,
    "UnitNotFound",
  ],
  [
    "ListUnits unknown application",
    "admin",
    ({ apps }) => apps.listUnits({ modelUuid: model, application: "nope" }),
    Code.NOT_FOUND,
    "ApplicationNotFound",
  ],
  [
    "RemoveUnit empty",
    "admin",
    ({ apps }) => apps.removeUnit({ modelUuid: model, name: "" }),
    Code.INVALID_ARGUMENT,
    "InvalidUnitName",
  ],
  [
    "RemoveUnit unknown",
    "admin",
    ({ apps }) => apps.removeUnit({ modelUuid: model, name: "wp/9" }),
    Code.NOT_FOUND,
    "UnitNotFound",
  ],
  [
    "EnsureUnitDead alive unit",
    "admin",
    ({ apps }) => apps.ensureUnitDead({ modelUuid: model, name: "wp/1" }),
    Code.FAILED_PRECONDITION,
    "UnitNotAlive",
  ],
  [
    "EnsureUnitDead another unit",
    "unit-wp-0",
    ({ apps }) => apps.ensureUnitDead({ modelUuid: model, name: "wp/1" }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "AddRelation empty identifiers",
    "admin",
    ({ rel }) => rel.addRelation({ modelUuid: model, endpoint1: "", endpoint2: "" }),
    Code.NOT_FOUND,
    "RelationEndpointNotFound",
  ],
  [
    "AddRelation malformed identifier",
    "admin",
    ({ rel }) => rel.addRelation({ modelUuid: model, endpoint1: "a:b:c", endpoint2: "wp" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "AddRelation malformed model",
    "admin",
    ({ rel }) => rel.addRelation({ modelUuid: "", endpoint1: "wp", endpoint2: "mysql" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "AddRelation invalid CIDR",
    "admin",
    ({ rel }) => rel.addRelation({ modelUuid: model, endpoint1: "wp", endpoint2: "mysql", viaCidrs: [""] }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "AddRelation existing",
    "admin",
    ({ rel }) => rel.addRelation({ modelUuid: model, endpoint1: "mysql", endpoint2: "wp" }),
    Code.ALREADY_EXISTS,
    "RelationAlreadyExists",
  ],
  [
    "AddRelation as a unit",
    "unit-wp-0",
    ({ rel }) => rel.addRelation({ modelUuid: model, endpoint1: "wp", endpoint2: "mysql" }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "GetRelation malformed uuid",
    "admin",
    ({ rel }) => rel.getRelation({ modelUuid: model, by: { case: "uuid", value: "x" } }),
    Code.INVALID_ARGUMENT,
    "RelationUUIDNotValid",
  ],
  [
    "GetRelation unknown uuid",
    "admin",
    ({ rel }) => rel.getRelation({ modelUuid: model, by: { case: "uuid", value: UNKNOWN } }),
    Code.NOT_FOUND,
    "RelationNotFound",
  ],
  [
    "GetRelation unknown id",
    "admin",
    ({ rel }) => rel.getRelation({ modelUuid: model, by: { case: "id", value: 99 } }),
    Code.NOT_FOUND,
    "RelationNotFound",
  ],
  [
    "GetRelation empty key",
    "admin",
    ({ rel }) => rel.getRelation({ modelUuid: model, by: { case: "key", value: "" } }),
    Code.INVALID_ARGUMENT,
    "RelationKeyNotValid",
  ],
  [
    "GetRelation nothing named",
    "admin",
    ({ rel }) => rel.getRelation({ modelUuid: model }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "GetRelation by an unrelated unit",
    "unit-other-0",
    ({ rel }) => rel.getRelation({ modelUuid: model, by: { case: "uuid", value: relation } }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "ListRelations unknown application",
    "admin",
    ({ rel }) => rel.listRelations({ modelUuid: model, application: "nope" }),
    Code.NOT_FOUND,
    "ApplicationNotFound",
  ],
  [
    "ListRelations of the model as a unit",
    "unit-wp-0",
    ({ rel }) => rel.listRelations({ modelUuid: model }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "GetRelationEndpointUUID malformed application",
    "admin",
    ({ rel }) =>
      rel.getRelationEndpointUUID({ modelUuid: model, relationUuid: relation, applicationUuid: "x" }),
    Code.INVALID_ARGUMENT,
    "ApplicationUUIDNotValid",
  ],
  [
    "GetRelationEndpointUUID malformed relation",
    "admin",
    ({ rel }) =>
      rel.getRelationEndpointUUID({ modelUuid: model, relationUuid: "x", applicationUuid: UNKNOWN }),
    Code.INVALID_ARGUMENT,
    "RelationUUIDNotValid",
  ],
  [
    "GetRelationUUIDForRemoval one endpoint",
    "admin",
    ({ rel }) => rel.getRelationUUIDForRemoval({ modelUuid: model, endpoints: ["wp"] }),
    Code.FAILED_PRECONDITION,
    "NotSupported",
  ],
  [
    "GetRelationUUIDForRemoval unknown id",
    "admin",
    ({ rel }) => rel.getRelationUUIDForRemoval({ modelUuid: model, relationId: 77 }),
    Code.NOT_FOUND,
    "RelationNotFound",
  ],
  [
    "RemoveRelation malformed",
    "admin",
    ({ rel }) => rel.removeRelation({ modelUuid: model, relationUuid: "" }),
    Code.INVALID_ARGUMENT,
    "RelationUUIDNotValid",
  ],
  [
    "RemoveRelation unknown",
    "admin",
    ({ rel }) => rel.removeRelation({ modelUuid: model, relationUuid: UNKNOWN }),
    Code.NOT_FOUND,
    "RelationNotFound",
  ],
  [
    "RemoveRelation as a unit",
    "unit-wp-0",
    ({ rel }) => rel.removeRelation({ modelUuid: model, relationUuid: relation }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "EnterScope empty unit",
    "admin",
    ({ rel }) => rel.enterScope({ modelUuid: model, relationUuid: relation, unit: "" }),
    Code.INVALID_ARGUMENT,
    "InvalidUnitName",
  ],
  [
    "EnterScope malformed relation",
    "admin",
    ({ rel }) => rel.enterScope({ modelUuid: model, relationUuid: "r1", unit: "wp/1" }),
    Code.INVALID_ARGUMENT,
    "RelationUUIDNotValid",
  ],
  [
    "EnterScope unknown unit",
    "admin",
    ({ rel }) => rel.enterScope({ modelUuid: model, relationUuid: relation, unit: "wp/7" }),
    Code.NOT_FOUND,
    "UnitNotFound",
  ],
  [
    "EnterScope unknown relation",
    "admin",
    ({ rel }) => rel.enterScope({ modelUuid: model, relationUuid: UNKNOWN, unit: "wp/1" }),
    Code.NOT_FOUND,
    "RelationNotFound",
  ],
  [
    "EnterScope unit not in relation",
    "admin",
    ({ rel }) => rel.enterScope({ modelUuid: model, relationUuid: relation, unit: "other/0" }),
    Code.FAILED_PRECONDITION,
    "UnitNotInRelation",
  ],
  [
    "EnterScope for another unit",
    "unit-mysql-0",
    ({ rel }) => rel.enterScope({ modelUuid: model, relationUuid: relation, unit: "wp/1" }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "EnterScope empty settings key",
    "unit-wp-1",
    ({ rel }) =>
      rel.enterScope({ modelUuid: model, relationUuid: relation, unit: "wp/1", settings: { "": "v" } }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "GetRelationUnit out of scope",
    "unit-wp-1",
    ({ rel }) => rel.getRelationUnit({ modelUuid: model, relationUuid: relation, unit: "wp/1" }),
    Code.NOT_FOUND,
    "RelationUnitNotFound",
  ],
  [
    "LeaveScope malformed",
    "admin",
    ({ rel }) => rel.leaveScope({ modelUuid: model, relationUnitUuid: "x" }),
    Code.INVALID_ARGUMENT,
    "RelationUUIDNotValid",
  ],
  [
    "LeaveScope unknown",
    "admin",
    ({ rel }) => rel.leaveScope({ modelUuid: model, relationUnitUuid: UNKNOWN }),
    Code.NOT_FOUND,
    "RelationUnitNotFound",
  ],
  [
    "LeaveScope for another unit",
    "unit-wp-1",
    ({ rel }) => rel.leaveScope({ modelUuid: model, relationUnitUuid: relationUnit }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "GetRelationUnitSettings unknown relation",
    "admin",
    ({ rel }) => rel.getRelationUnitSettings({ modelUuid: model, relationUuid: UNKNOWN, unit: "wp/0" }),
    Code.NOT_FOUND,
    "RelationNotFound",
  ],
  [
    "GetRelationUnitSettings malformed unit",
    "admin",
    ({ rel }) => rel.getRelationUnitSettings({ modelUuid: model, relationUuid: relation, unit: "x" }),
    Code.INVALID_ARGUMENT,
    "InvalidUnitName",
  ],
  [
    "GetRelationUnitSettings never in scope",
    "admin",
    ({ rel }) => rel.getRelationUnitSettings({ modelUuid: model, relationUuid: relation, unit: "wp/1" }),
    Code.NOT_FOUND,
    "RelationUnitNotFound",
  ],
  [
    "SetRelationUnitSettings as admin",
    "admin",
    ({ rel }) =>
      rel.setRelationUnitSettings({
        modelUuid: model,
        relationUuid: relation,
        unit: "wp/0",
        settings: { values: { a: "1" } },
      }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "SetRelationUnitSettings for another unit",
    "unit-wp-1",
    ({ rel }) =>
      rel.setRelationUnitSettings({
        modelUuid: model,
        relationUuid: relation,
        unit: "wp/0",
        settings: { values: { a: "1" } },
      }),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "SetRelationUnitSettings out of scope",
    "unit-wp-1",
    ({ rel }) =>
      rel.setRelationUnitSettings({
        modelUuid: model,
        relationUuid: relation,
        unit: "wp/1",
        settings: { values: { a: "1" } },
      }),
    Code.NOT_FOUND,
    "RelationUnitNotFound",
  ],
  [
    "GetRelationApplicationSettings empty application",
    "admin",
    ({ rel }) =>
      rel.getRelationApplicationSettings({ modelUuid: model, relationUuid: relation, application: "" }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "GetRelationApplicationSettings application not in relation",
    "admin",
    ({ rel }) =>
      rel.getRelationApplicationSettings({ modelUuid: model, relationUuid: relation, application: "other" }),
    Code.NOT_FOUND,
    "ApplicationNotFoundForRelation",
  ],
  [
    "SetRelationApplicationAndUnitSettings stale term",
    "unit-wp-0",
    ({ rel }) =>
      rel.setRelationApplicationAndUnitSettings({
        modelUuid: model,
        relationUuid: relation,
        unit: "wp/0",
        applicationSettings: { values: { a: "1" } },
        unitSettings: { values: { b: "2" } },
        leadershipTerm: 2n,
      }),
    Code.PERMISSION_DENIED,
    "NotHeld",
  ],
  [
    "SetRelationStatus unspecified status",
    "unit-wp-0",
    ({ rel }) =>
      rel.setRelationStatus({ modelUuid: model, relationUuid: relation, unit: "wp/0", leadershipTerm: 3n }),
    Code.INVALID_ARGUMENT,
    "NotValid",
  ],
  [
    "SetRelationStatus by a non-leader",
    "unit-wp-1",
    ({ rel }) =>
      rel.setRelationStatus({
        modelUuid: model,
        relationUuid: relation,
        unit: "wp/1",
        status: RelationStatus.JOINED,
        leadershipTerm: 3n,
      }),
    Code.PERMISSION_DENIED,
    "NotHeld",
  ],
  [
    "SetRelationStatus unknown relation",
    "unit-wp-0",
    ({ rel }) =>
      rel.setRelationStatus({
        modelUuid: model,
        relationUuid: UNKNOWN,
        unit: "wp/0",
        status: RelationStatus.JOINED,
        leadershipTerm: 3n,
      }),
    Code.NOT_FOUND,
    "RelationNotFound",
  ],
  [
    "WatchRelationUnits malformed relation",
    "unit-wp-0",
    ({ rel }) => first(rel.watchRelationUnits({ modelUuid: model, relationUuid: "x", unit: "wp/0" })),
    Code.INVALID_ARGUMENT,
    "RelationUUIDNotValid",
  ],
  [
    "WatchRelationUnits unknown relation",
    "unit-wp-0",
    ({ rel }) => first(rel.watchRelationUnits({ modelUuid: model, relationUuid: UNKNOWN, unit: "wp/0" })),
    Code.NOT_FOUND,
    "RelationNotFound",
  ],
  [
    "WatchRelationUnits for another unit",
    "unit-wp-1",
    ({ rel }) => first(rel.watchRelationUnits({ modelUuid: model, relationUuid: relation, unit: "wp/0" })),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "WatchRelationUnits unit not in relation",
    "admin",
    ({ rel }) => first(rel.watchRelationUnits({ modelUuid: model, relationUuid: relation, unit: "other/0" })),
    Code.FAILED_PRECONDITION,
    "UnitNotInRelation",
  ],
  [
    "WatchUnitRelations empty unit",
    "admin",
    ({ rel }) => first(rel.watchUnitRelations({ modelUuid: model, unit: "" })),
    Code.INVALID_ARGUMENT,
    "InvalidUnitName",
  ],
  [
    "WatchUnitRelations unknown unit",
    "admin",
    ({ rel }) => first(rel.watchUnitRelations({ modelUuid: model, unit: "wp/9" })),
    Code.NOT_FOUND,
    "UnitNotFound",
  ],
  [
    "WatchUnit empty unit",
    "admin",
    ({ apps }) => first(apps.watchUnit({ modelUuid: model, unit: "" })),
    Code.INVALID_ARGUMENT,
    "InvalidUnitName",
  ],
  [
    "WatchUnit unknown unit",
    "admin",
    ({ apps }) => first(apps.watchUnit({ modelUuid: model, unit: "wp/9" })),
    Code.NOT_FOUND,
    "UnitNotFound",
  ],
  [
    "WatchUnit as another unit",
    "unit-wp-1",
    ({ apps }) => first(apps.watchUnit({ modelUuid: model, unit: "wp/0" })),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
  [
    "WatchUnit as an application agent",
    "application-wp",
    ({ apps }) => first(apps.watchUnit({ modelUuid: model, unit: "wp/0" })),
    Code.PERMISSION_DENIED,
    "PermissionDenied",
  ],
];

async function first<T>(stream: AsyncIterable<T>): Promise<T | undefined> {
  for await (const msg of stream) return msg;
  return undefined;
}

describe("bad input over a real socket", () => {
  for (const [name, tag, call, code, kind] of badInput) {
    test(`${name}: ${Code[code]} ${kind}, nothing written`, async () => {
      const clients = {
        models: await svc.client(ModelService, tag),
        apps: await svc.client(ApplicationService, tag),
        rel: await svc.client(RelationService, tag),
      };
      const before = await snapshotModel(svc.db.sql, model);
      const err = (await call(clients).then(
        () => assert.fail("the call succeeded"),
        (e) => e,
      )) as ConcordError;
      assert.equal(Code[err.code], Code[code], err.message);
      assert.equal(err.kind, kind, err.message);
      assert.equal(await snapshotModel(svc.db.sql, model), before);
    });
  }

  test("GetRelationEndpointUUID with application and relation missing reports both kinds", async () => {
    const rel = await svc.client(RelationService);
    const err = (await rel
      .getRelationEndpointUUID({ modelUuid: model, relationUuid: UNKNOWN, applicationUuid: UNKNOWN })
      .catch((e) => e)) as ConcordError;
    assert.equal(err.code, Code.NOT_FOUND);
    assert.deepEqual(err.details.kinds?.split(","), ["ApplicationNotFound", "RelationNotFound"]);
  });
});

describe("settings, leadership and events", () => {
  test("the leader writes application settings with its term; each write bumps the version and publishes", async () => {
    const start = await lastOutboxId();
    const wp0 = await svc.client(RelationService, "unit-wp-0");
    await wp0.setRelationApplicationAndUnitSettings({
      modelUuid: model,
      relationUuid: relation,
      unit: "wp/0",
      applicationSettings: { values: { url: "http://x" } },
      unitSettings: { values: { host: "10.0.0.1" } },
      leadershipTerm: 3n,
    });
    const admin = await svc.client(RelationService);
    const app = await admin.getRelationApplicationSettings({
      modelUuid: model,
      relationUuid: relation,
      application: "wp",
    });
    assert.deepEqual(app.settings, { url: "http://x" });
    await wp0.setRelationStatus({
      modelUuid: model,
      relationUuid: relation,
      unit: "wp/0",
      status: RelationStatus.JOINED,
      leadershipTerm: 3n,
    });
    const events = await eventsAfter(start);
    const rels = events.filter((e) => e.event.kind === "relation");
    assert.equal(rels.length, 1, "settings alone publish no relation event; the status change does");
    const info = rels[0]!.event.change.case === "entity" ? rels[0]!.event.change.value.kind : undefined;
    assert.equal(info?.case, "relation");
    if (info?.case === "relation") {
      assert.equal(info.value.key, "wp:db mysql:server");
      assert.equal(info.value.status?.current, "joined");
      assert.deepEqual(info.value.unitsInScope, ["wp/0"]);
      assert.equal(info.value.life, Life.ALIVE);
      assert.equal(info.value.endpoints.length, 2);
    }
  });
});

describe("leader projection", () => {
  test("a leader event from the event log moves leadership: the new holder's term is accepted, the old refused", async () => {
    const event = create(ChangeEventSchema, {
      modelUuid: model,
      kind: "leader",
      id: "wp",
      source: "leadership",
      change: {
        case: "entity",
        value: {
          kind: { case: "leader", value: { modelUuid: model, application: "wp", holder: "wp/1", term: 4n } },
        },
      },
    });
    const { seq } = await svc.events.append(subjectFor(event), toBinary(ChangeEventSchema, event));
    await svc.leaders.reached(seq);
    const write = (unit: string, term: bigint) =>
      svc.client(RelationService, unitTag(unit)).then((c) =>
        c.setRelationApplicationAndUnitSettings({
          modelUuid: model,
          relationUuid: relation,
          unit,
          applicationSettings: { values: { by: unit } },
          leadershipTerm: term,
        }),
      );
    await assert.rejects(write("wp/0", 3n), (e: ConcordError) => e.kind === "NotHeld");
    const wp1 = await svc.client(RelationService, "unit-wp-1");
    await wp1.enterScope({ modelUuid: model, relationUuid: relation, unit: "wp/1" });
    await write("wp/1", 4n);
    const { relationUnitUuid } = await wp1.getRelationUnit({
      modelUuid: model,
      relationUuid: relation,
      unit: "wp/1",
    });
    await wp1.leaveScope({ modelUuid: model, relationUnitUuid });
    // The other tests run with wp/0 leading in term 3.
    await Seeder.run(svc.db.sql, model, (s) => s.leader("wp", "wp/0", 3));
  });
});

describe("watchers across replicas", () => {
  test("WatchRelationUnits on one replica sees changes made through another", async () => {
    const replica = await startTestService({ replicaOf: svc });
    try {
      const mysqlWatch = await replica.client(RelationService, "unit-mysql-0");
      const ac = new AbortController();
      const it = mysqlWatch
        .watchRelationUnits(
          { modelUuid: model, relationUuid: relation, unit: "mysql/0" },
          { signal: ac.signal },
        )
        [Symbol.asyncIterator]();
      const initial = (await it.next()).value!;
      assert.deepEqual(Object.keys(initial.changed), ["wp/0"]);
      assert.deepEqual(Object.keys(initial.appChanged), ["wp"]);
      assert.deepEqual(initial.departed, []);
      const before = initial.changed["wp/0"];

      const wp0 = await svc.client(RelationService, "unit-wp-0");
      await wp0.setRelationUnitSettings({
        modelUuid: model,
        relationUuid: relation,
        unit: "wp/0",
        settings: { values: { host: "10.0.0.2" } },
      });
      const changed = (await it.next()).value!;
      assert.notEqual(changed.changed["wp/0"], before);
      assert.deepEqual(changed.departed, []);

      const wp1 = await svc.client(RelationService, "unit-wp-1");
      const { relationUnitUuid } = await wp1.enterScope({
        modelUuid: model,
        relationUuid: relation,
        unit: "wp/1",
        settings: { k: "v" },
      });
      const joined = (await it.next()).value!;
      assert.deepEqual(Object.keys(joined.changed), ["wp/1"]);

      await wp1.leaveScope({ modelUuid: model, relationUnitUuid });
      const departed = (await it.next()).value!;
      assert.deepEqual(departed.departed, ["wp/1"]);
      ac.abort();
    } finally {
      await replica.stop();
    }
  });

  test("WatchUnitRelations lists the application's relations, then each change", async () => {
    const replica = await startTestService({ replicaOf: svc });
    try {
      const mysql0 = await replica.client(RelationService, "unit-mysql-0");
      const ac = new AbortController();
      const it = mysql0
        .watchUnitRelations({ modelUuid: model, unit: "mysql/0" }, { signal: ac.signal })
        [Symbol.asyncIterator]();
      const initial = (await it.next()).value!;
      assert.deepEqual(initial.changed.map((r: Relation) => r.key).sort(), [
        "mysql:cluster",
        "wp:db mysql:server",
      ]);
      const wp0 = await svc.client(RelationService, "unit-wp-0");
      await wp0.setRelationStatus({
        modelUuid: model,
        relationUuid: relation,
        unit: "wp/0",
        status: RelationStatus.BROKEN,
        message: "gone",
        leadershipTerm: 3n,
      });
      const next = (await it.next()).value!;
      assert.deepEqual(
        next.changed.map((r: Relation) => [r.key, r.status, r.statusMessage]),
        [["wp:db mysql:server", RelationStatus.BROKEN, "gone"]],
      );
      ac.abort();
    } finally {
      await replica.stop();
    }
  });
});

describe("life", () => {
  test("a relation with a unit in scope goes dying, then dead and removed when the unit leaves", async () => {
    const admin = await svc.client(RelationService);
    const apps = await svc.client(ApplicationService);
    await apps.deployApplication({
      modelUuid: model,
      name: "cache",
      endpoints: [endpoint("c", EndpointRole.REQUIRER, "http")],
    });
    const r = (await admin.addRelation({ modelUuid: model, endpoint1: "wp:website", endpoint2: "cache" }))
      .relation!;
    const wp1 = await svc.client(RelationService, "unit-wp-1");
    const { relationUnitUuid } = await wp1.enterScope({
      modelUuid: model,
      relationUuid: r.uuid,
      unit: "wp/1",
    });
    const start = await lastOutboxId();
    await admin.removeRelation({ modelUuid: model, relationUuid: r.uuid });
    const dying = (await admin.getRelation({ modelUuid: model, by: { case: "uuid", value: r.uuid } }))
      .relation!;
    assert.equal(dying.life, Life.DYING);
    const wp0 = await svc.client(RelationService, "unit-wp-0");
    await assert.rejects(
      wp0.enterScope({ modelUuid: model, relationUuid: r.uuid, unit: "wp/0" }),
      (e: ConcordError) => e.kind === "CannotEnterScopeNotAlive",
    );
    await wp1.leaveScope({ modelUuid: model, relationUnitUuid });
    await assert.rejects(
      admin.getRelation({ modelUuid: model, by: { case: "uuid", value: r.uuid } }),
      (e: ConcordError) => e.kind === "RelationNotFound",
    );
    const lifes = (await eventsAfter(start))
      .filter((e) => e.event.kind === "relation")
      .map(({ event }) =>
        event.change.case === "removed"
          ? "removed"
          : event.change.value?.kind.case === "relation"
            ? Life[event.change.value.kind.value.life]
            : "?",
      );
    assert.deepEqual(lifes, ["DYING", "DEAD", "removed"]);
    const again = await admin.addRelation({ modelUuid: model, endpoint1: "wp:website", endpoint2: "cache" });
    assert.ok(again.relation!.id > r.id, "relation ids are never reused");
  });
});

describe("WatchUnit", () => {
  test("the unit's state first, then each change; removal ends the stream with UnitRemoved", async () => {
    const apps = await svc.client(ApplicationService);
    const { unit } = await apps.addUnit({ modelUuid: model, application: "other", machine: "7" });
    const own = await svc.client(ApplicationService, unitTag(unit!.name));
    const ac = new AbortController();
    const it = own
      .watchUnit({ modelUuid: model, unit: unit!.name }, { signal: ac.signal })
      [Symbol.asyncIterator]();
    const initial = (await it.next()).value!.unit!;
    assert.deepEqual(
      [initial.name, initial.application, initial.machine, initial.principal, initial.life],
      [unit!.name, "other", "7", "", Life.ALIVE],
    );
    const byAdmin = apps.watchUnit({ modelUuid: model, unit: unit!.name })[Symbol.asyncIterator]();
    assert.equal((await byAdmin.next()).value!.unit!.life, Life.ALIVE);
    await byAdmin.return?.(undefined);

    await apps.removeUnit({ modelUuid: model, name: unit!.name });
    assert.equal((await it.next()).value!.unit!.life, Life.DYING);
    // Nothing else changed: a second RemoveUnit sends nothing, so the next message is the unit's death.
    await apps.removeUnit({ modelUuid: model, name: unit!.name });
    await own.ensureUnitDead({ modelUuid: model, name: unit!.name });
    const seen: Life[] = [];
    const err = await (async () => {
      for (;;) {
        const { value, done } = await it.next();
        if (done) return undefined;
        seen.push(value.unit!.life);
      }
    })().catch((e: ConcordError) => e);
    assert.ok(
      seen.every((l) => l === Life.DEAD),
      `after dying only dead may be seen: ${seen}`,
    );
    assert.equal(err?.code, Code.NOT_FOUND);
    assert.equal(err?.kind, "UnitRemoved");
    await assert.rejects(
      first(own.watchUnit({ modelUuid: model, unit: unit!.name })),
      (e: ConcordError) => e.kind === "UnitNotFound",
    );
    ac.abort();
  });
});
