import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "./clock";

describe("ManualClock", () => {
  it("fires due timers in deadline order, including timers set while firing", () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer(20, () => fired.push(`b@${clock.now()}`));
    clock.setTimer(10, () => {
      fired.push(`a@${clock.now()}`);
      clock.setTimer(5, () => fired.push(`c@${clock.now()}`));
    });
    const cancelled = clock.setTimer(12, () => fired.push("cancelled"));
    cancelled.cancel();
    clock.advance(19);
    assert.deepEqual(fired, ["a@10", "c@15"]);
    assert.equal(clock.now(), 19);
    clock.advance(1);
    assert.deepEqual(fired, ["a@10", "c@15", "b@20"]);
    assert.equal(clock.pendingTimers(), 0);
  });
});
