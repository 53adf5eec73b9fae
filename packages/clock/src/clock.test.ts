import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualClock } from "./index";

test("a manual clock fires due timers in deadline order, including timers set while firing", () => {
  const clock = new ManualClock(0);
  const fired: string[] = [];
  clock.setTimer(20, () => fired.push("b"));
  clock.setTimer(10, () => {
    fired.push("a");
    clock.setTimer(5, () => fired.push("a2"));
  });
  const cancelled = clock.setTimer(12, () => fired.push("never"));
  cancelled.cancel();
  clock.advance(15);
  assert.deepEqual(fired, ["a", "a2"]);
  assert.equal(clock.now(), 15);
  clock.advance(5);
  assert.deepEqual(fired, ["a", "a2", "b"]);
  assert.equal(clock.pendingTimers(), 0);
});

test("advanceSettled lets the work a timer starts arm the next timer before time moves on", async () => {
  const clock = new ManualClock(0);
  const fired: number[] = [];
  const renew = () => {
    fired.push(clock.now());
    void Promise.resolve().then(() => clock.setTimer(30, renew));
  };
  clock.setTimer(30, renew);
  assert.equal(clock.nextTimerAt(), 30);
  await clock.advanceSettled(100);
  assert.deepEqual(fired, [30, 60, 90]);
  assert.equal(clock.now(), 100);
  assert.equal(clock.nextTimerAt(), 120);
});
