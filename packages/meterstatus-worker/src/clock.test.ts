import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "./clock";

describe("ManualClock", () => {
  it("fires due timers in due order with now at each due time", () => {
    const clock = new ManualClock(1000);
    const fired: Array<[string, number]> = [];
    clock.setTimer(50, () => fired.push(["b", clock.now()]));
    clock.setTimer(10, () => fired.push(["a", clock.now()]));
    const c = clock.setTimer(20, () => fired.push(["c", clock.now()]));
    clock.setTimer(500, () => fired.push(["late", clock.now()]));
    c.cancel();
    clock.advance(100);
    assert.deepEqual(fired, [
      ["a", 1010],
      ["b", 1050],
    ]);
    assert.equal(clock.now(), 1100);
    assert.equal(clock.pendingTimers(), 1);
  });

  it("fires a non-positive timer on the next advance and keeps ties in set order", () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimer(0, () => fired.push("x"));
    clock.setTimer(-5, () => fired.push("y"));
    assert.deepEqual(fired, []);
    clock.advance(0);
    assert.deepEqual(fired, ["x", "y"]);
  });
});
