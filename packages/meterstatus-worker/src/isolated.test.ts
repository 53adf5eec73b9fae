import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ManualClock } from "@concord/clock";
import { isMeterStatusWorkerError } from "./errors";
import { DISCONNECTED_INFO, type IsolatedConfig, startIsolatedWorker } from "./isolated";
import { nullLogger } from "./logger";
import { RecordingRunner } from "./testing";
import { type MeterStatusState, type StateReadWriter, WorkerState } from "./types";

const t0 = 1_700_000_000;

class MemoryState implements StateReadWriter {
  writes: MeterStatusState[] = [];
  failWrites = false;
  constructor(public state: MeterStatusState | undefined = undefined) {}
  async read() {
    return this.state && structuredClone(this.state);
  }
  async write(s: MeterStatusState) {
    if (this.failWrites) throw new Error("disk full");
    this.writes.push(structuredClone(s));
    this.state = structuredClone(s);
  }
}

function setup(state?: MeterStatusState) {
  const clock = new ManualClock(t0 * 1000);
  const runner = new RecordingRunner();
  const store = new MemoryState(state);
  const config: IsolatedConfig = {
    runner,
    stateReadWriter: store,
    clock,
    logger: nullLogger,
    amberGracePeriodMs: 60_000,
    redGracePeriodMs: 300_000,
  };
  return { clock, runner, store, config };
}

const amberHook = { code: "AMBER", info: DISCONNECTED_INFO };
const redHook = { code: "RED", info: DISCONNECTED_INFO };

describe("isolated worker", () => {
  it("validates its configuration with Juju's messages", async () => {
    const { config } = setup();
    const cases: Array<[Partial<IsolatedConfig>, string]> = [
      [{ runner: undefined }, "missing Runner not valid"],
      [{ stateReadWriter: undefined }, "missing StateReadWriter not valid"],
      [{ clock: undefined }, "missing Clock not valid"],
      [{ logger: undefined }, "missing Logger not valid"],
      [{ amberGracePeriodMs: 0 }, "amber grace period not valid"],
      [{ redGracePeriodMs: -1 }, "red grace period not valid"],
      [{ amberGracePeriodMs: 300_000 }, "amber grace period must be shorter than the red grace period"],
    ];
    for (const [patch, message] of cases) {
      await assert.rejects(startIsolatedWorker({ ...config, ...patch } as IsolatedConfig), (err) => {
        assert.ok(isMeterStatusWorkerError(err, "NotValid"));
        assert.equal(err.message, message);
        return true;
      });
    }
  });

  it("escalates to AMBER then RED, writing only on transitions", async () => {
    const { clock, runner, store, config } = setup();
    const w = await startIsolatedWorker(config);
    await w.idle();
    assert.equal(store.writes.length, 0);
    clock.advance(59_999);
    await w.idle();
    assert.deepEqual(runner.runs, []);
    clock.advance(1);
    await w.idle();
    assert.deepEqual(runner.runs, [amberHook]);
    assert.deepEqual(store.state, {
      code: "AMBER",
      info: DISCONNECTED_INFO,
      disconnected: { disconnectedAt: t0, state: WorkerState.WaitingRed },
    });
    clock.advance(240_000);
    await w.idle();
    assert.deepEqual(runner.runs, [amberHook, redHook]);
    assert.deepEqual(store.state?.disconnected, { disconnectedAt: t0, state: WorkerState.Done });
    clock.advance(10_000_000);
    await w.idle();
    assert.equal(runner.runs.length, 2);
    await w.stop();
  });

  it("handles amber then red when both come due in one step", async () => {
    const { clock, runner, store, config } = setup();
    const w = await startIsolatedWorker(config);
    clock.advance(1_000_000);
    await w.idle();
    assert.deepEqual(runner.runs, [amberHook, redHook]);
    assert.deepEqual(
      store.writes.map((s) => s.disconnected?.state),
      [WorkerState.WaitingRed, WorkerState.Done],
    );
    await w.stop();
  });

  it("fires an overdue red at start", async () => {
    const { runner, store, config } = setup({
      code: "AMBER",
      info: DISCONNECTED_INFO,
      disconnected: { disconnectedAt: t0 - 400, state: WorkerState.WaitingRed },
    });
    const w = await startIsolatedWorker(config);
    await w.idle();
    assert.deepEqual(runner.runs, [redHook]);
    assert.deepEqual(store.state?.disconnected, { disconnectedAt: t0 - 400, state: WorkerState.Done });
    await w.stop();
  });

  it("dies when the state cannot be written, after running the hook", async () => {
    const { clock, runner, store, config } = setup();
    store.failWrites = true;
    const w = await startIsolatedWorker(config);
    clock.advance(60_000);
    await assert.rejects(w.wait(), (err) => {
      assert.ok(isMeterStatusWorkerError(err, "StateWriteFailed"));
      assert.equal(err.message, "failed to record meter status worker state: disk full");
      return true;
    });
    assert.deepEqual(runner.runs, [amberHook]);
  });

  it("fails to start when the state cannot be read", async () => {
    const { config } = setup();
    config.stateReadWriter = {
      read: () => Promise.reject(new Error("permission denied")),
      write: () => Promise.resolve(),
    };
    await assert.rejects(startIsolatedWorker(config), /permission denied/);
  });

  it("cancels the hook's lock wait on stop but still writes the state", async () => {
    const { clock, store, config } = setup();
    let sawAbort = false;
    let started!: () => void;
    const hookStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    config.runner = {
      run: (_code, _info, signal) =>
        new Promise<void>((resolve) => {
          started();
          signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve();
          });
        }),
    };
    const w = await startIsolatedWorker(config);
    clock.advance(60_000);
    await hookStarted;
    await w.stop();
    assert.ok(sawAbort);
    assert.equal(store.state?.code, "AMBER");
  });

  it("stops firing once stopped", async () => {
    const { clock, runner, config } = setup();
    const w = await startIsolatedWorker(config);
    await w.stop();
    assert.equal(clock.pendingTimers(), 0);
    clock.advance(1_000_000);
    assert.deepEqual(runner.runs, []);
  });
});
