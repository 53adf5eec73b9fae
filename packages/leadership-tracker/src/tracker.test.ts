import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock, settle } from "@concord/clock";
import { isKind, LeadershipError } from "./errors";
import { Tracker } from "./tracker";
import type { Clock, LeadershipClaimer, Ticket } from "./types";

type Result = "ok" | "denied" | Error | { term: number };

/** A controller stand-in: scripted claim results, and release waits the test ends by hand. */
class FakeClaimer implements LeadershipClaimer {
  readonly claims: number[] = [];
  readonly waits: { release(): void; fail(err: Error): void; signal: AbortSignal }[] = [];
  constructor(
    private readonly clock: Clock,
    private readonly results: Result[] = [],
  ) {}

  async claimLeadership(app: string, unit: string, durationMs: number): Promise<{ term: number }> {
    assert.equal(app, "redis");
    assert.match(unit, /^redis\/\d+$/);
    assert.equal(durationMs, 60_000);
    this.claims.push(this.clock.now() / 1000);
    const result = this.results.shift() ?? "ok";
    if (result === "ok") return { term: 1 };
    if (result === "denied") throw new LeadershipError("ErrClaimDenied");
    if (result instanceof Error) throw result;
    return result;
  }

  blockUntilLeadershipReleased(_app: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      signal.addEventListener("abort", () => reject(new LeadershipError("ErrBlockCancelled")), {
        once: true,
      });
      this.waits.push({ release: resolve, fail: reject, signal });
    });
  }
}

function start(results: Result[] = [], clock = new ManualClock(0)) {
  const claimer = new FakeClaimer(clock, results);
  const tracker = new Tracker({ claimer, unitName: "redis/0", clock, guaranteeMs: 30_000 });
  return { clock, claimer, tracker };
}

/** A ticket's answer so far: undefined while unresolved. */
function peek(ticket: Ticket) {
  const state: { value: boolean | undefined } = { value: undefined };
  ticket.wait().then((value) => {
    state.value = value;
  });
  return state;
}

describe("Tracker as leader", () => {
  it("claims for 2G at once and renews G after each claim started", async () => {
    const { clock, claimer, tracker } = start();
    await settle();
    assert.deepEqual(claimer.claims, [0]);
    await clock.advanceToSettled(29_999);
    assert.deepEqual(claimer.claims, [0]);
    await clock.advanceToSettled(75_000);
    assert.deepEqual(claimer.claims, [0, 30, 60]);
    assert.equal(tracker.claimDurationMs(), 30_000);
    assert.equal(tracker.applicationName(), "redis");
  });

  it("answers ClaimLeader and WaitLeader true at once and queues WaitMinion", async () => {
    const { tracker } = start();
    assert.equal(await tracker.claimLeader().wait(), true);
    assert.equal(await tracker.waitLeader().wait(), true);
    const minion = peek(tracker.waitMinion());
    await settle();
    assert.equal(minion.value, undefined);
  });

  it("renews first when a renewal is due but not yet handled, so 'leader' rests on a fresh claim", async () => {
    let now = 0;
    const frozen: Clock = { now: () => now, setTimer: () => ({ cancel: () => {} }) };
    const claimer = new FakeClaimer(frozen, ["ok", "denied"]);
    const tracker = new Tracker({ claimer, unitName: "redis/0", clock: frozen, guaranteeMs: 30_000 });
    assert.equal(await tracker.claimLeader().wait(), true);
    now = 30_000;
    assert.equal(await tracker.claimLeader().wait(), false);
    assert.deepEqual(claimer.claims, [0, 30]);
  });

  it("becomes a minion on a denied renewal: queued WaitMinion resolves true, new ones false", async () => {
    const { clock, claimer, tracker } = start(["ok", "denied"]);
    const minion = peek(tracker.waitMinion());
    await clock.advanceToSettled(30_000);
    assert.equal(minion.value, true);
    assert.equal(claimer.waits.length, 1);
    assert.equal(await tracker.waitMinion().wait(), false);
    assert.equal(await tracker.claimLeader().wait(), false);
  });

  it("adopts a higher term on renewal and stays leader", async () => {
    const warnings: string[] = [];
    const clock = new ManualClock(0);
    const claimer = new FakeClaimer(clock, [{ term: 4 }, { term: 5 }]);
    const tracker = new Tracker({
      claimer,
      unitName: "redis/0",
      clock,
      guaranteeMs: 30_000,
      logger: { debug: () => {}, info: () => {}, warn: (m) => warnings.push(m) },
    });
    await settle();
    assert.equal(tracker.term(), 4);
    await clock.advanceToSettled(30_000);
    assert.equal(tracker.term(), 5);
    assert.equal(await tracker.claimLeader().wait(), true);
    assert.equal(warnings.length, 1);
  });
});

describe("Tracker as minion", () => {
  it("blocks until release without re-claiming on a timer, then claims again", async () => {
    const { clock, claimer, tracker } = start(["denied", "ok"]);
    const leader = peek(tracker.waitLeader());
    await clock.advanceToSettled(100_000);
    assert.deepEqual(claimer.claims, [0]);
    assert.equal(claimer.waits.length, 1);
    assert.equal(leader.value, undefined);
    claimer.waits[0]!.release();
    await settle();
    assert.deepEqual(claimer.claims, [0, 100]);
    assert.equal(leader.value, true);
    await clock.advanceToSettled(130_000);
    assert.deepEqual(claimer.claims, [0, 100, 130]);
  });

  it("starts a second release wait when the claim after a release is denied", async () => {
    const { claimer } = start(["denied", "denied"]);
    await settle();
    claimer.waits[0]!.release();
    await settle();
    assert.equal(claimer.claims.length, 2);
    assert.equal(claimer.waits.length, 2);
  });

  it("dies when the release wait fails with anything but a cancellation", async () => {
    const { claimer, tracker } = start(["denied"]);
    await settle();
    claimer.waits[0]!.fail(new Error("connection lost"));
    assert.equal(
      (await tracker.wait())?.message,
      "error while redis/0 waiting for redis leadership release: connection lost",
    );
  });
});

describe("Tracker lifecycle", () => {
  it("dies on a claim error other than a denial; later tickets resolve false", async () => {
    const { tracker } = start([new Error("pow")]);
    assert.equal((await tracker.wait())?.message, "leadership failure: pow");
    assert.equal(await tracker.claimLeader().wait(), false);
    assert.equal(await tracker.waitLeader().wait(), false);
  });

  it("stops cleanly: queued tickets resolve false, the release wait is cancelled", async () => {
    const { claimer, tracker } = start(["denied"]);
    const leader = peek(tracker.waitLeader());
    await settle();
    assert.equal(await tracker.stop(), undefined);
    await settle();
    assert.equal(leader.value, false);
    assert.equal(claimer.waits[0]!.signal.aborted, true);
    assert.equal(await tracker.waitMinion().wait(), false);
  });

  it("refuses an invalid configuration", () => {
    const clock = new ManualClock(0);
    const claimer = new FakeClaimer(clock);
    assert.throws(() => new Tracker({ claimer, unitName: "redis/0", clock, guaranteeMs: 0 }), /guaranteeMs/);
  });
});

describe("Tracker.withStableLeadership", () => {
  it("runs fn while leader and returns its result", async () => {
    const { tracker } = start();
    assert.equal(await tracker.withStableLeadership(async () => 42), 42);
  });

  it("aborts fn and fails with ErrLeadershipChanged when a renewal is denied", async () => {
    const { clock, tracker } = start(["ok", "denied"]);
    const run = tracker
      .withStableLeadership(
        (signal) => new Promise((resolve) => signal.addEventListener("abort", () => resolve("late"))),
      )
      .catch((e: unknown) => e);
    await clock.advanceToSettled(30_000);
    const err = await run;
    assert.ok(isKind(err, "ErrLeadershipChanged"));
  });

  it("fails with ErrLeadershipChanged when not leader at the start", async () => {
    const { tracker } = start(["denied"]);
    const err = await tracker.withStableLeadership(async () => 1).catch((e: unknown) => e);
    assert.ok(isKind(err, "ErrLeadershipChanged"));
  });

  it("wraps an fn failure", async () => {
    const { tracker } = start();
    await assert.rejects(
      tracker.withStableLeadership(async () => {
        throw new Error("boom");
      }),
      { message: "executing leadership func: boom" },
    );
  });
});
