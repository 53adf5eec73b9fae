import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ConnectedConfig, startConnectedWorker } from "./connected";
import { isMeterStatusWorkerError } from "./errors";
import { nullLogger } from "./logger";
import { ControllerState, formatState } from "./state";
import { FakeMeterStatusClient, RecordingRunner } from "./testing";
import type { MeterStatusState } from "./types";

function setup(saved?: MeterStatusState) {
  const client = new FakeMeterStatusClient({ code: "GREEN", info: "" }, saved ? formatState(saved) : "");
  const runner = new RecordingRunner();
  const config: ConnectedConfig = {
    runner,
    stateReadWriter: new ControllerState(client, "app/0"),
    status: client,
    unitName: "app/0",
    logger: nullLogger,
  };
  return { client, runner, config };
}

describe("connected worker", () => {
  it("validates its configuration with Juju's messages", async () => {
    const { config } = setup();
    const cases: Array<[Partial<ConnectedConfig>, string]> = [
      [{ runner: undefined }, "missing Runner not valid"],
      [{ stateReadWriter: undefined }, "missing StateReadWriter not valid"],
      [{ status: undefined }, "missing Status not valid"],
      [{ logger: undefined }, "missing Logger not valid"],
    ];
    for (const [patch, message] of cases) {
      await assert.rejects(startConnectedWorker({ ...config, ...patch } as ConnectedConfig), { message });
    }
  });

  it("runs the hook on the first event, not again for the same status, again on a change", async () => {
    const { client, runner, config } = setup();
    const w = await startConnectedWorker(config);
    await client.drained();
    assert.deepEqual(runner.runs, [{ code: "GREEN", info: "" }]);
    assert.equal(client.writes, 1);
    client.setStatus("GREEN", "");
    await client.drained();
    assert.equal(runner.runs.length, 1);
    assert.equal(client.writes, 1);
    client.setStatus("RED", "overdue");
    await client.drained();
    assert.deepEqual(runner.runs.at(-1), { code: "RED", info: "overdue" });
    assert.equal(client.workerState, "status-code: RED\nstatus-info: overdue\n");
    client.setStatus("RED", "later");
    await client.drained();
    assert.deepEqual(runner.runs.at(-1), { code: "RED", info: "later" });
    await w.stop();
    assert.ok(client.watchers[0]?.isClosed);
  });

  it("keeps a migrated disconnected block when writing", async () => {
    const { client, config } = setup({
      code: "RED",
      info: "unit agent has been disconnected",
      disconnected: { disconnectedAt: 5, state: 3 },
    });
    const w = await startConnectedWorker(config);
    await client.drained();
    assert.equal(
      client.workerState,
      'status-code: GREEN\nstatus-info: ""\ndisconnected:\n  disconnected-at: 5\n  disconnected-state: 3\n',
    );
    await w.stop();
  });

  it("still writes the state when the hook runner fails", async () => {
    const { client, config } = setup();
    config.runner = { run: () => Promise.reject(new Error("boom")) };
    const w = await startConnectedWorker(config);
    await client.drained();
    assert.equal(client.writes, 1);
    assert.equal(w.fatalError, undefined);
    await w.stop();
  });

  it("dies on an API error and on a failed write", async () => {
    const a = setup();
    a.client.getError = new Error("connection reset");
    const wa = await startConnectedWorker(a.config);
    await assert.rejects(wa.wait(), /connection reset/);

    const b = setup();
    b.client.setError = new Error("denied");
    const wb = await startConnectedWorker(b.config);
    await assert.rejects(wb.wait(), (err) => {
      assert.ok(isMeterStatusWorkerError(err, "StateWriteFailed"));
      assert.equal(err.message, "failed to record meter status worker state: denied");
      return true;
    });
    assert.equal(b.runner.runs.length, 1);
  });

  it("dies when the watcher ends on its own", async () => {
    const { client, config } = setup();
    const w = await startConnectedWorker(config);
    await client.drained();
    client.watchers[0]!.stop();
    await assert.rejects(w.wait(), (err) => isMeterStatusWorkerError(err, "WatcherStopped"));
  });
});
