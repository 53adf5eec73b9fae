// End to end over real NATS and Postgres, with real processes: the relation service and two multiwatcher
// processes started from their standalone entry points. Relation-service changes arrive as deltas on a
// WatchModel stream; the first multiwatcher is killed mid-stream, the relation service keeps changing things,
// and the client resumes with since_revision on a second multiwatcher process. It must miss nothing and
// receive nothing twice.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { toJsonString } from "@bufbuild/protobuf";
import { createTestDatabase, freePort, type TestDatabase } from "@concord/db";
import { startNatsServer, type TestNatsServer, testStreamName } from "@concord/events";
import { createClient, TokenAuthority } from "@concord/grpc";
import { EntitySchema } from "@concord/proto/events/v1/events";
import { MultiwatcherService, type WatchResult } from "@concord/proto/multiwatcher/v1/multiwatcher";
import {
  ApplicationService,
  EndpointRole,
  ModelService,
  RelationService,
} from "@concord/proto/relation/v1/relation";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const secret = "e2e-token-secret-0123456789";
const tokens = new TokenAuthority(secret);
let nats: TestNatsServer;
let db: TestDatabase;
const stream = testStreamName();
const children = new Set<ChildProcess>();

/** Starts a service's standalone main and resolves with its address once it logs "serving". */
async function startService(main: string, extraEnv: Record<string, string> = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", main], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      NATS_URL: nats.url,
      CONCORD_EVENT_STREAM: stream,
      CONCORD_TOKEN_SECRET: secret,
      CONCORD_ADDR: `127.0.0.1:${port}`,
      CONCORD_METRICS_ADDR: "off",
      LOG_LEVEL: "info",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/"msg":"serving"/.test(output)) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`${main} exited with ${code}:\n${output}`)));
  });
  return {
    address: `127.0.0.1:${port}`,
    /** Kills the process outright (no graceful shutdown): what a crash or an evicted pod looks like. */
    async kill() {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
    },
  };
}

before(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase();
});

after(async () => {
  for (const child of children) child.kill("SIGKILL");
  await db?.drop();
  await nats?.stop();
});

type Cache = Map<string, { json: string; revision: bigint }>;

function keyOf(d: WatchResult["deltas"][number]): string {
  const k = d.entity!.kind;
  const v = k.value as {
    name?: string;
    key?: string;
    application?: string;
    unit?: string;
    modelUuid: string;
  };
  return `${d.kind}/${v.name ?? v.key ?? v.application ?? v.unit ?? v.modelUuid}`;
}

/** Applies a result to a client cache (spec §11.8); returns the keys it touched. */
function applyResult(cache: Cache, r: WatchResult): string[] {
  if (r.snapshot) cache.clear();
  return r.deltas.map((d) => {
    const key = keyOf(d);
    if (d.removed) cache.delete(key);
    else cache.set(key, { json: toJsonString(EntitySchema, d.entity!), revision: d.revision });
    return key;
  });
}

test("relation changes stream as deltas; a restart and resume on another process misses nothing, repeats nothing", async () => {
  const relation = await startService("services/relation/src/main.ts", { CONCORD_MIGRATE: "1" });
  const mwMain = "services/multiwatcher/src/main.ts";
  const first = await startService(mwMain);
  const token = await tokens.issue("admin");
  const models = createClient(ModelService, relation.address, { token });
  const apps = createClient(ApplicationService, relation.address, { token });
  const relations = createClient(RelationService, relation.address, { token });
  const channelOptions = { "grpc.max_receive_message_length": 64 * 1024 * 1024 };

  const model = (await models.createModel({ name: "e2e" })).model!;
  const modelUuid = model.uuid;
  await apps.deployApplication({
    modelUuid,
    name: "wordpress",
    endpoints: [{ name: "db", role: EndpointRole.REQUIRER, interface: "mysql" }],
  });
  await apps.deployApplication({
    modelUuid,
    name: "mysql",
    endpoints: [{ name: "server", role: EndpointRole.PROVIDER, interface: "mysql" }],
  });

  // Watch on the first process: the snapshot, then the relation service's changes as deltas.
  const cache: Cache = new Map();
  const mw1 = createClient(MultiwatcherService, first.address, { token, channelOptions });
  const stream1 = mw1.watchModel({ modelUuid })[Symbol.asyncIterator]();
  const next1 = async () => (await stream1.next()).value!.result!;
  const snapshot = await next1();
  assert.equal(snapshot.snapshot, true);
  applyResult(cache, snapshot);
  let revision = snapshot.revision;
  const logId = snapshot.logId;

  await apps.addUnit({ modelUuid, application: "wordpress" });
  await apps.addUnit({ modelUuid, application: "mysql" });
  const rel = (await relations.addRelation({ modelUuid, endpoint1: "wordpress", endpoint2: "mysql" }))
    .relation!;
  const want = ["unit/wordpress/0", "unit/mysql/0", `relation/${rel.key}`];
  // Deltas arrive (possibly coalesced over several messages) until everything the service did is in the cache.
  while (!want.every((k) => cache.has(k))) {
    const r = await next1();
    assert.equal(r.snapshot, false);
    for (const d of r.deltas) assert.ok(d.revision > revision, "a delta older than the position");
    applyResult(cache, r);
    revision = r.revision;
  }

  // The multiwatcher dies mid-stream; the relation service goes on changing the model.
  await first.kill();
  await assert.rejects(stream1.next());
  mw1.close();
  await relations.enterScope({ modelUuid, relationUuid: rel.uuid, unit: "wordpress/0" });
  await relations.enterScope({ modelUuid, relationUuid: rel.uuid, unit: "mysql/0" });
  await apps.addUnit({ modelUuid, application: "wordpress" });
  await apps.removeUnit({ modelUuid, name: "wordpress/1" });
  await apps.ensureUnitDead({ modelUuid, name: "wordpress/1" });

  // A second process, rebuilt from the log alone; the client resumes where it stopped.
  const second = await startService(mwMain);
  const mw2 = createClient(MultiwatcherService, second.address, { token, channelOptions });
  const resumeFrom = revision;
  const resumed = mw2
    .watchModel({ modelUuid, from: { sinceRevision: revision, logId } })
    [Symbol.asyncIterator]();
  const r = (await resumed.next()).value!.result!;
  assert.equal(r.snapshot, false);
  assert.equal(r.logId, logId, "every process gives the same log identity");
  const touched = applyResult(cache, r);
  assert.equal(new Set(touched).size, touched.length, "each entity at most once");
  for (const d of r.deltas) assert.ok(d.revision > resumeFrom, "nothing from before the resume point");
  assert.ok(
    touched.includes(`relation/${rel.key}`),
    "the relation's units in scope changed while the client was away",
  );
  assert.ok(!cache.has("unit/wordpress/1"), "a unit created and removed in the gap is never mentioned");
  assert.ok(!touched.includes("unit/wordpress/1"));

  // Nothing missed: the cache equals a fresh snapshot of the second process, value for value, revision for revision.
  const fresh = mw2.watchModel({ modelUuid })[Symbol.asyncIterator]();
  const snap = (await fresh.next()).value!.result!;
  assert.equal(snap.revision, r.revision);
  const expected: Cache = new Map();
  applyResult(expected, snap);
  assert.deepEqual([...cache.entries()].sort(), [...expected.entries()].sort());
  const relationJson = JSON.parse(cache.get(`relation/${rel.key}`)!.json);
  assert.deepEqual(relationJson.relation.unitsInScope, ["mysql/0", "wordpress/0"]);

  await resumed.return?.();
  await fresh.return?.();
  mw2.close();
  models.close();
  apps.close();
  relations.close();
  await second.kill();
  await relation.kill();
});
