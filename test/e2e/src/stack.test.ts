// The multi-process stack, wired as in Kubernetes: each service its own process on real Postgres and NATS, a
// gateway in front. One scenario crosses every service through the gateway.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Stack, startStack } from "@concord/controller";
import { freePort, testServer } from "@concord/db";
import { Code, type ConcordError, createClient } from "@concord/grpc";
import type { Entity } from "@concord/proto/events/v1/events";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import { MultiwatcherService } from "@concord/proto/multiwatcher/v1/multiwatcher";
import {
  ApplicationService,
  EndpointRole,
  EndpointScope,
  ModelService,
  RelationService,
} from "@concord/proto/relation/v1/relation";

let stack: Stack;
let dataDir: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "concord-stack-test-"));
  const suffix = randomBytes(3).toString("hex");
  stack = await startStack({
    dataDir,
    databaseUrl: (await testServer()).url,
    database: `concord_stack_test_${suffix}`,
    natsUrl: process.env.NATS_URL,
    stream: `CONCORD_E2E_${suffix.toUpperCase()}`,
    gatewayAddress: `127.0.0.1:${await freePort()}`,
    logLevel: "warn",
  });
});

after(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const endpoint = (name: string, role: EndpointRole) => ({
  name,
  role,
  interface: "mysql",
  scope: EndpointScope.GLOBAL,
  limit: 0,
});

test("a change made through the gateway reaches every service and the model's delta stream", async () => {
  const admin = { token: stack.adminToken };
  const models = createClient(ModelService, stack.address, admin);
  const apps = createClient(ApplicationService, stack.address, admin);
  const relations = createClient(RelationService, stack.address, admin);
  const watcher = createClient(MultiwatcherService, stack.address, admin);
  const modelUuid = (await models.createModel({ name: "e2e" })).model!.uuid;

  const ac = new AbortController();
  const stream = watcher.watchModel({ modelUuid }, { signal: ac.signal })[Symbol.asyncIterator]();
  const first = await stream.next();
  assert.equal(first.value?.result?.snapshot, true);

  await apps.deployApplication({
    modelUuid,
    name: "mysql",
    endpoints: [endpoint("db", EndpointRole.PROVIDER)],
  });
  await apps.deployApplication({
    modelUuid,
    name: "wordpress",
    endpoints: [endpoint("db", EndpointRole.REQUIRER)],
  });
  await apps.addUnit({ modelUuid, application: "mysql", machine: "0" });
  const relation = (await relations.addRelation({ modelUuid, endpoint1: "wordpress", endpoint2: "mysql" }))
    .relation!;

  // A unit's agent claims leadership through the gateway with its own token.
  const unitLeadership = createClient(LeadershipService, stack.address, {
    token: await new (await import("@concord/grpc")).TokenAuthority(stack.secret).issue("unit-mysql-0"),
  });
  const claim = await unitLeadership.claimLeadership({
    modelUuid,
    application: "mysql",
    unit: "mysql/0",
    durationSeconds: 60,
  });
  assert.ok(claim.term > 0n);

  // Deltas from three services arrive on one stream: relation (relation service), leader (leadership),
  // meterStatus (the meterstatus service learnt the unit from the relation service's events).
  const seen = new Map<string, Entity>();
  const wanted = [`relation:${relation.key}`, "leader:mysql", "meterStatus:mysql/0"];
  while (!wanted.every((k) => seen.has(k))) {
    const next = await stream.next();
    assert.equal(next.done, false, "the stream ended early");
    for (const d of next.value!.result!.deltas) {
      const e = d.entity!.kind;
      const id =
        e.case === "relation"
          ? e.value.key
          : e.case === "leader"
            ? e.value.application
            : e.case === "meterStatus"
              ? e.value.unit
              : "";
      if (e.case) seen.set(`${d.kind}:${id}`, d.entity!);
    }
  }
  const leader = seen.get("leader:mysql")!.kind;
  assert.equal(leader.case === "leader" && leader.value.holder, "mysql/0");
  const meter = seen.get("meterStatus:mysql/0")!.kind;
  assert.equal(meter.case === "meterStatus" && meter.value.code, "NOT SET");
  ac.abort();

  // Errors keep their kind through the gateway.
  const err = (await relations
    .addRelation({ modelUuid, endpoint1: "wordpress", endpoint2: "mysql" })
    .catch((e) => e)) as ConcordError;
  assert.equal(err.code, Code.ALREADY_EXISTS);
  for (const c of [models, apps, relations, watcher, unitLeadership]) c.close();
});

test("the gateway authenticates nothing itself: each service rejects a missing token", async () => {
  const models = createClient(ModelService, stack.address);
  await assert.rejects(models.listModels({}), (e: ConcordError) => e.code === Code.UNAUTHENTICATED);
  models.close();
});
