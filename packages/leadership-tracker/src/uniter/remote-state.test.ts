import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock, settle } from "@concord/clock";
import { LeadershipError } from "../errors";
import { Tracker } from "../tracker";
import type { LeadershipClaimer } from "../types";
import { LeadershipRemoteState } from "./remote-state";

describe("LeadershipRemoteState", () => {
  it("follows the tracker through leader, minion and leader again", async () => {
    const clock = new ManualClock(0);
    const results = ["ok", "denied", "ok"];
    let release!: () => void;
    const claimer: LeadershipClaimer = {
      claimLeadership: async () => {
        if (results.shift() === "denied") throw new LeadershipError("ErrClaimDenied");
        return { term: 1 };
      },
      blockUntilLeadershipReleased: () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    };
    const tracker = new Tracker({ claimer, unitName: "redis/0", clock, guaranteeMs: 30_000 });
    const changes: boolean[] = [];
    const state = new LeadershipRemoteState(tracker, (changed) => {
      if (changed) changes.push(state.leader);
    });
    const loop = state.start();
    await settle();
    assert.equal(state.leader, true);
    await clock.advanceToSettled(30_000);
    assert.equal(state.leader, false);
    release();
    await settle();
    assert.equal(state.leader, true);
    assert.deepEqual(changes, [true, false, true]);
    await tracker.stop();
    await loop;
  });

  it("counts leader-settings notifications, the first included", () => {
    const never = new Promise<never>(() => {});
    const tracker = {
      applicationName: () => "redis",
      claimDurationMs: () => 30_000,
      claimLeader: () => ({ wait: () => never, ready: () => never }),
      waitLeader: () => ({ wait: () => never, ready: () => never }),
      waitMinion: () => ({ wait: () => never, ready: () => never }),
      term: () => undefined,
    };
    let notified = 0;
    const state = new LeadershipRemoteState(tracker, () => notified++);
    state.leaderSettingsChanged();
    state.leaderSettingsChanged();
    assert.equal(state.leaderSettingsVersion, 2);
    assert.equal(notified, 2);
  });
});
