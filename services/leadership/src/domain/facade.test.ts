import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock, settle } from "@concord/clock";
import { errorKind, isNotHeld } from "./errors";
import { type AuthEntity, LeadershipFacade } from "./facade";
import { LeaseManager } from "./manager";
import { InMemoryLeaseStore } from "./memory-store";
import { LEADERSHIP_NAMESPACE } from "./types";
import { defaultSecretaries } from "./validation";

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const unit = (name: string): AuthEntity => ({ kind: "unit", name });

function setup() {
  const clock = new ManualClock(0);
  const manager = new LeaseManager({
    store: new InMemoryLeaseStore(clock),
    clock,
    logger: quiet,
    secretaries: defaultSecretaries,
    maxSleepMs: 60_000,
  });
  return { clock, manager, api: new LeadershipFacade(manager.bind(LEADERSHIP_NAMESPACE, "m1")) };
}

async function failure(
  p: Promise<unknown>,
): Promise<{ kind: string | undefined; message: string } | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return { kind: errorKind(err), message: (err as Error).message };
  }
}

describe("LeadershipFacade.claimLeadership", () => {
  it("accepts durations from 5 s to 300 s inclusive", async () => {
    const { api } = setup();
    for (const ms of [4_990, 300_100, 0, -1, Number.NaN]) {
      assert.deepEqual(await failure(api.claimLeadership(unit("redis/0"), "redis", "redis/0", ms)), {
        kind: "InvalidDuration",
        message: "invalid duration",
      });
    }
    for (const ms of [5_000, 300_000, 5_001, 299_900]) {
      assert.deepEqual(await api.claimLeadership(unit("redis/0"), "redis", "redis/0", ms), { term: 1 });
    }
  });

  it("lets a unit claim only for itself, an application agent for any of its units", async () => {
    const { api } = setup();
    const denied = { kind: "Unauthorized", message: "permission denied" };
    assert.deepEqual(await failure(api.claimLeadership(unit("mysql/0"), "redis", "redis/0", 60_000)), denied);
    assert.deepEqual(await failure(api.claimLeadership(unit("redis/0"), "redis", "redis/1", 60_000)), denied);
    assert.deepEqual(await failure(api.claimLeadership(unit("redis/0"), "mysql", "redis/0", 60_000)), denied);
    assert.deepEqual(
      await failure(api.claimLeadership({ kind: "machine", id: "0" }, "redis", "redis/0", 60_000)),
      denied,
    );
    assert.deepEqual(await failure(api.claimLeadership(unit("redis/0"), "Redis", "redis/0", 60_000)), denied);
    assert.deepEqual(
      await failure(api.claimLeadership({ kind: "application", name: "mysql" }, "redis", "redis/1", 60_000)),
      denied,
    );
    assert.deepEqual(
      await api.claimLeadership({ kind: "application", name: "redis" }, "redis", "redis/1", 60_000),
      {
        term: 1,
      },
    );
  });

  it("renames a denial to the leadership error", async () => {
    const { api } = setup();
    await api.claimLeadership(unit("redis/0"), "redis", "redis/0", 60_000);
    assert.deepEqual(await failure(api.claimLeadership(unit("redis/1"), "redis", "redis/1", 60_000)), {
      kind: "ErrClaimDenied",
      message: "leadership claim denied",
    });
  });
});

describe("LeadershipFacade controller-side operations", () => {
  it("maps revoke and check failures, and lists leaders and pins", async () => {
    const { api } = setup();
    await api.claimLeadership(unit("redis/0"), "redis", "redis/0", 60_000);
    assert.deepEqual(await failure(api.revokeLeadership("redis", "redis/1")), {
      kind: "ErrClaimNotHeld",
      message: "leadership lease not held",
    });
    const notLeader = await failure(api.leadershipCheck("redis", "redis/1").check());
    assert.deepEqual(notLeader, { kind: "NotLeaderError", message: '"redis/1" is not leader of "redis"' });
    assert.deepEqual(await api.leadershipCheck("redis", "redis/0").check(), { term: 1 });
    assert.deepEqual(await api.leaders(), { redis: "redis/0" });
    await api.pinLeadership("mysql", "machine-0");
    assert.deepEqual(await api.pinnedLeadership(), { mysql: ["machine-0"] });
    await api.unpinLeadership("mysql", "machine-0");
    assert.deepEqual(await api.pinnedLeadership(), {});
    await api.revokeLeadership("redis", "redis/0");
    await api.revokeLeadership("redis", "redis/0");
    assert.deepEqual(await api.leaders(), {});
  });

  it("blocks until release for the application's own agents only, and maps cancellation", async () => {
    const { api } = setup();
    await api.claimLeadership(unit("redis/0"), "redis", "redis/0", 60_000);
    assert.equal(
      (await failure(api.blockUntilLeadershipReleased(unit("mysql/0"), "redis")))?.kind,
      "Unauthorized",
    );
    const cancel = new AbortController();
    const wait = failure(api.blockUntilLeadershipReleased(unit("redis/1"), "redis", cancel.signal));
    await settle();
    cancel.abort();
    assert.deepEqual(await wait, {
      kind: "ErrBlockCancelled",
      message: "waiting for leadership cancelled by client",
    });
    const released = api.blockUntilLeadershipReleased({ kind: "application", name: "redis" }, "redis");
    await settle();
    await api.revokeLeadership("redis", "redis/0");
    await released;
  });
});

describe("LeadershipFacade.withLeader", () => {
  it("runs fn with the term while the unit leads", async () => {
    const { api } = setup();
    await api.claimLeadership(unit("redis/0"), "redis", "redis/0", 60_000);
    assert.equal(await api.withLeader("redis", "redis/0", async (_signal, term) => `term ${term}`), "term 1");
  });

  it("fails with an error satisfying ErrNotHeld for a non-leader, without running fn", async () => {
    const { api } = setup();
    await api.claimLeadership(unit("redis/0"), "redis", "redis/0", 60_000);
    let ran = false;
    const err = await api
      .withLeader("redis", "redis/1", async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    assert.ok(isNotHeld(err));
    assert.equal(ran, false);
  });

  it("aborts fn's signal soon after the lease is lost", async () => {
    const { clock, api } = setup();
    await api.claimLeadership(unit("redis/0"), "redis", "redis/0", 60_000);
    let aborted = false;
    const run = api.withLeader("redis", "redis/0", (signal) => {
      return new Promise<void>((resolve) => {
        signal.addEventListener("abort", () => {
          aborted = true;
          resolve();
        });
      });
    });
    await clock.advanceToSettled(59_000);
    assert.equal(aborted, false);
    await clock.advanceToSettled(61_000);
    assert.equal(aborted, true);
    await run;
  });

  it("wraps an fn failure", async () => {
    const { api } = setup();
    await api.claimLeadership(unit("redis/0"), "redis", "redis/0", 60_000);
    await assert.rejects(
      api.withLeader("redis", "redis/0", async () => {
        throw new Error("boom");
      }),
      { message: "executing leadership func: boom" },
    );
  });
});
