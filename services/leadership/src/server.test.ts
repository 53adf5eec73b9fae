import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { subjectFor } from "@concord/events";
import { type Client, Code, ConcordError, createClient, unitTag } from "@concord/grpc";
import { GrpcLeadershipClient } from "@concord/leadership-tracker";
import { ChangeEventSchema, Life } from "@concord/proto/events/v1/events";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import { startTestService, type TestService } from "./testing";

const MODEL = "model-1";
let svc: TestService;
let admin: Client<typeof LeadershipService>;
const agents: GrpcLeadershipClient[] = [];

async function agent(tag: string): Promise<GrpcLeadershipClient> {
  const client = new GrpcLeadershipClient({
    address: svc.address,
    token: await svc.tokens.issue(tag),
    modelUuid: MODEL,
  });
  agents.push(client);
  return client;
}

/** The error's kind and gRPC code, e.g. "ErrClaimDenied FAILED_PRECONDITION" ("local" for a client-side error). */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ConcordError) return `${err.kind} ${Code[err.code]}`;
    return `${(err as { kind?: string }).kind} local`;
  }
  return "ok";
}

before(async () => {
  svc = await startTestService();
  admin = createClient(LeadershipService, svc.address, { token: await svc.tokens.issue("admin") });
});
after(async () => {
  for (const a of agents) a.close();
  admin.close();
  await svc.stop();
});

describe("LeadershipService", () => {
  test("a unit claims only for itself; renewals keep the term, a new holder gets a higher one", async () => {
    const u0 = await agent(unitTag("redis/0"));
    const u1 = await agent(unitTag("redis/1"));
    assert.deepEqual(await u0.claimLeadership("redis", "redis/0", 60_000), { term: 1 });
    assert.deepEqual(await u0.claimLeadership("redis", "redis/0", 60_000), { term: 1 });
    assert.equal(
      await failure(u0.claimLeadership("redis", "redis/1", 60_000)),
      "Unauthorized PERMISSION_DENIED",
    );
    assert.equal(
      await failure(u0.claimLeadership("redis", "redis/0", 4_990)),
      "InvalidDuration INVALID_ARGUMENT",
    );
    assert.equal(
      await failure(u1.claimLeadership("redis", "redis/1", 60_000)),
      "ErrClaimDenied FAILED_PRECONDITION",
    );
    const adminClaim = admin.claimLeadership({
      modelUuid: MODEL,
      application: "redis",
      unit: "redis/1",
      durationSeconds: 60,
    });
    assert.equal(await failure(adminClaim), "Unauthorized PERMISSION_DENIED");

    const check = (unit: string) => admin.checkLeadership({ modelUuid: MODEL, application: "redis", unit });
    assert.equal((await check("redis/0")).term, 1n);
    assert.equal(await failure(check("redis/1")), "NotLeaderError FAILED_PRECONDITION");
    assert.deepEqual((await admin.leaders({ modelUuid: MODEL })).leaders, { redis: "redis/0" });

    const revoke = (unit: string) => admin.revokeLeadership({ modelUuid: MODEL, application: "redis", unit });
    assert.equal(await failure(revoke("redis/1")), "ErrClaimNotHeld FAILED_PRECONDITION");
    await revoke("redis/0");
    assert.deepEqual(await u1.claimLeadership("redis", "redis/1", 60_000), { term: 2 });
  });

  test("controller-side operations are the administrator's", async () => {
    const token = await svc.tokens.issue(unitTag("redis/1"));
    const asUnit = createClient(LeadershipService, svc.address, { token });
    try {
      const req = { modelUuid: MODEL, application: "redis", unit: "redis/1" };
      assert.equal(await failure(asUnit.revokeLeadership(req)), "Unauthorized PERMISSION_DENIED");
      assert.equal(await failure(asUnit.checkLeadership(req)), "Unauthorized PERMISSION_DENIED");
      const pin = asUnit.pinLeadership({ modelUuid: MODEL, application: "redis", entity: "machine-0" });
      assert.equal(await failure(pin), "Unauthorized PERMISSION_DENIED");
    } finally {
      asUnit.close();
    }
    await admin.pinLeadership({ modelUuid: MODEL, application: "ghost", entity: "machine-0" });
    const pinned = await admin.pinnedLeadership({ modelUuid: MODEL });
    assert.deepEqual(pinned.pinned.ghost?.entities, ["machine-0"]);
    await admin.unpinLeadership({ modelUuid: MODEL, application: "ghost", entity: "machine-0" });
  });

  test("a wait returns once the leader is revoked, and a cancelled wait ends with ErrBlockCancelled", async () => {
    const leader = await agent(unitTag("mysql/0"));
    const minion = await agent(unitTag("mysql/1"));
    await leader.claimLeadership("mysql", "mysql/0", 60_000);
    const cancel = new AbortController();
    const cancelled = failure(minion.blockUntilLeadershipReleased("mysql", cancel.signal));
    cancel.abort();
    assert.match(await cancelled, /^ErrBlockCancelled /);
    let released = false;
    const wait = minion.blockUntilLeadershipReleased("mysql", new AbortController().signal).then(() => {
      released = true;
    });
    await leader.claimLeadership("mysql", "mysql/0", 60_000);
    assert.equal(released, false);
    await admin.revokeLeadership({ modelUuid: MODEL, application: "mysql", unit: "mysql/0" });
    await wait;
    assert.deepEqual(await minion.claimLeadership("mysql", "mysql/1", 60_000), { term: 2 });
  });

  test("a unit's removal (relation service event) revokes its leadership at once", async () => {
    const leader = await agent(unitTag("pg/0"));
    const minion = await agent(unitTag("pg/1"));
    await leader.claimLeadership("pg", "pg/0", 60_000);
    const released = minion.blockUntilLeadershipReleased("pg", new AbortController().signal);
    const dead = create(ChangeEventSchema, {
      modelUuid: MODEL,
      kind: "unit",
      id: "pg/0",
      source: "relation",
      change: {
        case: "entity",
        value: {
          kind: {
            case: "unit",
            value: { modelUuid: MODEL, name: "pg/0", application: "pg", life: Life.DEAD },
          },
        },
      },
    });
    await svc.events.append(subjectFor(dead), toBinary(ChangeEventSchema, dead));
    await released;
    assert.deepEqual((await admin.leaders({ modelUuid: MODEL })).leaders.pg, undefined);
  });

  test("leader settings: any unit reads, only the leader writes (fenced by its term), watchers see each write", async () => {
    const leader = await agent(unitTag("kafka/0"));
    const minion = await agent(unitTag("kafka/1"));
    const stop = new AbortController();
    const versions = minion.watchLeaderSettings("kafka", stop.signal)[Symbol.asyncIterator]();
    assert.deepEqual(await versions.next(), { done: false, value: 0 });
    const { term } = await leader.claimLeadership("kafka", "kafka/0", 60_000);
    await leader.merge("kafka", "kafka/0", { a: "1", b: "2" }, term);
    assert.deepEqual(await versions.next(), { done: false, value: 1 });
    await leader.merge("kafka", "kafka/0", { b: "" });
    assert.deepEqual(await versions.next(), { done: false, value: 2 });
    assert.deepEqual(await minion.read("kafka"), { a: "1" });
    assert.equal(
      await failure(minion.merge("kafka", "kafka/1", { a: "x" })),
      "NotLeaderError FAILED_PRECONDITION",
    );
    assert.equal(
      await failure(leader.merge("kafka", "kafka/0", { a: "x" }, term + 1)),
      "NotLeaderError FAILED_PRECONDITION",
    );
    assert.equal(
      await failure(minion.merge("kafka", "kafka/0", { a: "x" })),
      "Unauthorized PERMISSION_DENIED",
    );
    stop.abort();
    await versions.return?.();
  });
});

describe("LeadershipService shutdown", () => {
  test("a stopping service ends pending waits with UNAVAILABLE", async () => {
    const own = await startTestService();
    const tag = (unit: string) => own.tokens.issue(unitTag(unit));
    const leader = new GrpcLeadershipClient({
      address: own.address,
      token: await tag("app/0"),
      modelUuid: MODEL,
    });
    const minion = new GrpcLeadershipClient({
      address: own.address,
      token: await tag("app/1"),
      modelUuid: MODEL,
    });
    try {
      await leader.claimLeadership("app", "app/0", 60_000);
      const waiting = failure(minion.blockUntilLeadershipReleased("app", new AbortController().signal));
      // The claim's round trip puts the wait well in place before the stop.
      await leader.claimLeadership("app", "app/0", 60_000);
      await own.stop();
      assert.equal(await waiting, "ErrStopped UNAVAILABLE");
    } finally {
      leader.close();
      minion.close();
    }
  });
});
