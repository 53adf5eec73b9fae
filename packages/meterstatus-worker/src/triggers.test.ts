import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getTriggers } from "./triggers";
import { WorkerState } from "./types";

const now = 1_700_000_000_000;
const amber = 600_000;
const red = 1_800_000;
const at = (secondsAgo: number) => now - secondsAgo * 1000;

describe("getTriggers", () => {
  it("arms amber and red for a fresh disconnect", () => {
    assert.deepEqual(getTriggers(WorkerState.Uninitialized, "GREEN", now, now, amber, red), {
      amberDelayMs: amber,
      redDelayMs: red,
    });
  });

  it("never de-escalates from exactly RED", () => {
    assert.deepEqual(getTriggers(WorkerState.WaitingAmber, "RED", at(601), now, amber, red), {
      amberDelayMs: undefined,
      redDelayMs: red - 601_000,
    });
    assert.equal(getTriggers(WorkerState.WaitingAmber, "red", now, now, amber, red).amberDelayMs, amber);
  });

  it("goes straight to red once the red deadline passed", () => {
    assert.deepEqual(getTriggers(WorkerState.WaitingAmber, "GREEN", at(1801), now, amber, red), {
      amberDelayMs: undefined,
      redDelayMs: -1000,
    });
  });

  it("arms both when amber passed but red did not", () => {
    assert.deepEqual(getTriggers(WorkerState.WaitingAmber, "GREEN", at(601), now, amber, red), {
      amberDelayMs: -1000,
      redDelayMs: red - 601_000,
    });
  });

  it("arms nothing for Done or an out-of-range state", () => {
    const none = { amberDelayMs: undefined, redDelayMs: undefined };
    assert.deepEqual(getTriggers(WorkerState.Done, "RED", at(1801), now, amber, red), none);
    assert.deepEqual(getTriggers(4, "GREEN", now, now, amber, red), none);
  });

  it("lengthens both delays for a disconnect in the future", () => {
    assert.deepEqual(getTriggers(WorkerState.WaitingAmber, "", now + 60_000, now, amber, red), {
      amberDelayMs: amber + 60_000,
      redDelayMs: red + 60_000,
    });
  });
});
