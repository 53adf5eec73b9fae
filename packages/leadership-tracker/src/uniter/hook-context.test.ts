import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { LeadershipTracker } from "../types";
import { HookLeadershipContext } from "./hook-context";
import type { LeaderSettingsAccessor } from "./types";

function fakeTracker(answers: boolean[]): LeadershipTracker & { asked: number } {
  const t = {
    asked: 0,
    applicationName: () => "redis",
    claimDurationMs: () => 30_000,
    claimLeader: () => {
      t.asked++;
      const value = answers.shift() ?? false;
      return { wait: async () => value, ready: async () => {} };
    },
    waitLeader: () => {
      throw new Error("not used");
    },
    waitMinion: () => {
      throw new Error("not used");
    },
    term: () => 7,
  };
  return t;
}

function fakeAccessor(settings: Record<string, string>) {
  const calls = { reads: 0, merges: [] as Record<string, string>[] };
  const accessor: LeaderSettingsAccessor = {
    read: async () => {
      calls.reads++;
      return { ...settings };
    },
    merge: async (_app, _unit, s) => {
      calls.merges.push(s);
    },
  };
  return { accessor, calls };
}

describe("HookLeadershipContext", () => {
  it("re-checks a true answer every time, and a false one sticks", async () => {
    const tracker = fakeTracker([true, true, false, true]);
    const ctx = new HookLeadershipContext(tracker, fakeAccessor({}).accessor, "redis/0");
    assert.equal(await ctx.isLeader(), true);
    assert.equal(await ctx.isLeader(), true);
    assert.equal(await ctx.isLeader(), false);
    assert.equal(await ctx.isLeader(), false);
    assert.equal(tracker.asked, 3);
    assert.equal(ctx.term(), 7);
  });

  it("reads settings once per hook and returns copies", async () => {
    const { accessor, calls } = fakeAccessor({ a: "1" });
    const ctx = new HookLeadershipContext(fakeTracker([]), accessor, "redis/0");
    const first = await ctx.leaderSettings();
    first.a = "changed";
    assert.deepEqual(await ctx.leaderSettings(), { a: "1" });
    assert.equal(calls.reads, 1);
  });

  it("writes at once when leader and clears the cache; refuses a minion", async () => {
    const { accessor, calls } = fakeAccessor({ a: "1" });
    const ctx = new HookLeadershipContext(fakeTracker([true, false]), accessor, "redis/0");
    await ctx.leaderSettings();
    await ctx.writeLeaderSettings({ a: "2" });
    assert.deepEqual(calls.merges, [{ a: "2" }]);
    await ctx.leaderSettings();
    assert.equal(calls.reads, 2);
    await assert.rejects(ctx.writeLeaderSettings({ b: "x" }), /^Error: cannot write leadership settings/);
    assert.equal(calls.merges.length, 1);
  });
});
