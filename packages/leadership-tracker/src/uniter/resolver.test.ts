import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LEADER_ELECTED, nextLeadershipOp, prepareHook, runLeadershipOp, type UniterError } from "./resolver";
import type { RemoteLeadershipSnapshot, UniterLocalState } from "./types";

const idle: UniterLocalState = { installed: true, leader: false, kind: "continue", leaderSettingsVersion: 0 };
const remote: RemoteLeadershipSnapshot = { leader: false, life: "alive", leaderSettingsVersion: 0 };

describe("nextLeadershipOp", () => {
  it("does nothing before the charm is installed", () => {
    assert.equal(
      nextLeadershipOp({ ...idle, installed: false }, { ...remote, leader: true, leaderSettingsVersion: 1 }),
      undefined,
    );
  });

  it("accepts leadership only when idle, queueing leader-elected", () => {
    const op = nextLeadershipOp(idle, { ...remote, leader: true });
    assert.deepEqual(op, { kind: "AcceptLeadership" });
    const outcome = runLeadershipOp(op!, idle);
    assert.equal(outcome.queuedHook, LEADER_ELECTED);
    assert.deepEqual(outcome.state, {
      ...idle,
      leader: true,
      kind: "run-hook",
      step: "queued",
      hook: LEADER_ELECTED,
    });
    const busy: UniterLocalState = { ...idle, kind: "run-hook", step: "queued", hook: "config-changed" };
    assert.equal(nextLeadershipOp(busy, { ...remote, leader: true, leaderSettingsVersion: 3 }), undefined);
    assert.throws(
      () => runLeadershipOp({ kind: "AcceptLeadership" }, busy),
      (e) => (e as UniterError).kind === "ErrCannotAcceptLeadership",
    );
  });

  it("resigns without a hook when deposed or dying", () => {
    const leader = { ...idle, leader: true };
    for (const r of [remote, { ...remote, leader: true, life: "dying" as const }]) {
      const op = nextLeadershipOp(leader, r);
      assert.deepEqual(op, { kind: "ResignLeadership" });
      const outcome = runLeadershipOp(op!, leader);
      assert.equal(outcome.queuedHook, undefined);
      assert.equal(outcome.ranHook, undefined);
      assert.equal(outcome.state.leader, false);
    }
  });

  it("runs leader-settings-changed on a live idle minion whose version is behind, then catches up", () => {
    const op = nextLeadershipOp(idle, { ...remote, leaderSettingsVersion: 2 });
    assert.deepEqual(op, { kind: "RunHook", hook: "leader-settings-changed", leaderSettingsVersion: 2 });
    const outcome = runLeadershipOp(op!, idle);
    assert.equal(outcome.ranHook, "leader-settings-changed");
    assert.equal(nextLeadershipOp(outcome.state, { ...remote, leaderSettingsVersion: 2 }), undefined);
  });

  it("never runs leader-settings-changed on a leader or a dying unit", () => {
    assert.equal(
      nextLeadershipOp({ ...idle, leader: true }, { ...remote, leader: true, leaderSettingsVersion: 5 }),
      undefined,
    );
    assert.equal(nextLeadershipOp(idle, { ...remote, life: "dying", leaderSettingsVersion: 5 }), undefined);
  });

  it("makes a deposed leader run leader-settings-changed after resigning", () => {
    const leader = { ...idle, leader: true };
    const deposed = { ...remote, leaderSettingsVersion: 1 };
    const resigned = runLeadershipOp(nextLeadershipOp(leader, deposed)!, leader).state;
    assert.equal(nextLeadershipOp(resigned, deposed)?.kind, "RunHook");
  });
});

describe("prepareHook", () => {
  it("skips a queued leader-elected when no longer leader", async () => {
    assert.equal(await prepareHook(LEADER_ELECTED, async () => false), "ErrSkipExecute");
    assert.equal(await prepareHook(LEADER_ELECTED, async () => true), "run");
  });

  it("runs other hooks without asking, and leader-elected when the check fails", async () => {
    assert.equal(
      await prepareHook("config-changed", async () => {
        throw new Error("must not be asked");
      }),
      "run",
    );
    assert.equal(
      await prepareHook(LEADER_ELECTED, async () => {
        throw new Error("unknown");
      }),
      "run",
    );
  });
});
