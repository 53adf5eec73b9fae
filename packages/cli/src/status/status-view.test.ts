import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { type Entity, EntitySchema, Life } from "@concord/proto/events/v1/events";
import { WatchResultSchema } from "@concord/proto/multiwatcher/v1/multiwatcher";
import { ModelCache } from "./model-cache";
import { statusDocument, statusTable, statusView } from "./status-view";

const M = "m-uuid";
const app = (name: string, life = Life.ALIVE): Entity =>
  create(EntitySchema, {
    kind: { case: "application", value: { modelUuid: M, name, life, status: { current: "active" } } },
  });
const unit = (name: string): Entity =>
  create(EntitySchema, {
    kind: {
      case: "unit",
      value: {
        modelUuid: M,
        name,
        application: name.split("/")[0]!,
        life: Life.ALIVE,
        agentStatus: { current: "idle" },
      },
    },
  });
const leader = (application: string, holder: string): Entity =>
  create(EntitySchema, { kind: { case: "leader", value: { modelUuid: M, application, holder, term: 3n } } });
const meter = (u: string, code: string, info = ""): Entity =>
  create(EntitySchema, { kind: { case: "meterStatus", value: { modelUuid: M, unit: u, code, info } } });
const relation = (): Entity =>
  create(EntitySchema, {
    kind: {
      case: "relation",
      value: {
        modelUuid: M,
        key: "wordpress:db mysql:db",
        relationId: 1,
        endpoints: [
          { application: "wordpress", name: "db", role: "requirer", interface: "mysql", scope: "global" },
          { application: "mysql", name: "db", role: "provider", interface: "mysql", scope: "global" },
        ],
        life: Life.ALIVE,
        status: { current: "joined" },
        unitsInScope: ["mysql/0", "wordpress/0"],
      },
    },
  });

const result = (revision: number, deltas: [Entity, boolean][], snapshot = false) =>
  create(WatchResultSchema, {
    revision: BigInt(revision),
    snapshot,
    logId: "log-1",
    deltas: deltas.map(([entity, removed]) => ({ kind: entity.kind.case ?? "", removed, entity })),
  });

test("the cache follows snapshots, changes and removals, and records every revision", () => {
  const cache = new ModelCache();
  cache.apply(
    result(
      5,
      [
        [app("mysql"), false],
        [unit("mysql/0"), false],
      ],
      true,
    ),
  );
  cache.apply(result(6, [[unit("mysql/1"), false]]));
  cache.apply(result(7, [[unit("mysql/0"), true]]));
  cache.apply(result(9, []));
  assert.equal(cache.revision, 9n);
  assert.equal(cache.logId, "log-1");
  const names = cache.entities().map((e) => (e.kind.value as { name: string }).name);
  assert.deepEqual(names, ["mysql", "mysql/1"]);
  cache.apply(result(12, [[app("redis"), false]], true));
  assert.deepEqual(
    cache.entities().map((e) => e.kind.case),
    ["application"],
  );
});

test("the table marks the leader, shows meter colours and relation status", () => {
  const view = statusView(
    [
      app("wordpress"),
      app("mysql", Life.DYING),
      unit("wordpress/10"),
      unit("wordpress/2"),
      unit("mysql/0"),
      leader("wordpress", "wordpress/2"),
      meter("wordpress/2", "AMBER", "pay up"),
      meter("wordpress/10", "NOT SET"),
      relation(),
    ],
    { name: "default", uuid: M },
    "127.0.0.1:17070",
    42n,
  );
  assert.equal(
    statusTable(view),
    `Model    Controller       Revision
default  127.0.0.1:17070  42

App        Status  Units  Leader       Message
mysql      dying   1
wordpress  active  2      wordpress/2

Unit          Workload  Agent  Meter  Message
mysql/0       unknown   idle
wordpress/2*  unknown   idle   amber
wordpress/10  unknown   idle

Entity       Meter status  Message
wordpress/2  amber         pay up

Integration provider  Requirer      Interface  Type     Status  Message
mysql:db              wordpress:db  mysql      regular  joined
`,
  );
  const doc = statusDocument(view) as { applications: Record<string, { units: Record<string, unknown> }> };
  assert.deepEqual(Object.keys(doc.applications.wordpress!.units), ["wordpress/2", "wordpress/10"]);
});

test("an empty model says so", () => {
  const view = statusView([], { name: "empty", uuid: M }, "c:1", undefined);
  assert.match(statusTable(view), /\n\nModel "empty" is empty\.\n$/);
});
