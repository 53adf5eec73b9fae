import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ManualClock } from "@concord/clock";
import { isMeterStatusWorkerError } from "./errors";
import { DISCONNECTED_INFO, type IsolatedWorker } from "./isolated";
import { MeterStatusManager, migrateDiskState, unitNameFromTag } from "./manifold";
import { DiskStateFile, formatState, parseState } from "./state";
import { FakeMeterStatusClient, MemoryLogger, RecordingRunner } from "./testing";

const t0 = 1_700_000_000;
let root: string;
let n = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "ms-manifold-"));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function setup() {
  const dataDir = await mkdtemp(join(root, `m${n++}-`));
  const clock = new ManualClock(t0 * 1000);
  const runner = new RecordingRunner();
  const logger = new MemoryLogger();
  const client = new FakeMeterStatusClient(
    { code: "GREEN", info: "" },
    formatState({ code: "GREEN", info: "" }),
  );
  const manager = new MeterStatusManager({ agentTag: "unit-my-app-0", dataDir, clock, logger, runner });
  const disk = new DiskStateFile(join(dataDir, "meter-status.yaml"));
  return { dataDir, clock, runner, logger, client, manager, disk };
}

describe("unitNameFromTag", () => {
  it("maps unit tags and rejects others", () => {
    assert.equal(unitNameFromTag("unit-my-app-12"), "my-app/12");
    assert.equal(unitNameFromTag("machine-0"), undefined);
    assert.equal(unitNameFromTag("application-my-app"), undefined);
  });
});

describe("MeterStatusManager", () => {
  it("runs only for a unit agent", () => {
    assert.throws(
      () =>
        new MeterStatusManager({
          agentTag: "machine-0",
          dataDir: root,
          clock: new ManualClock(0),
          logger: new MemoryLogger(),
          runner: new RecordingRunner(),
        }),
      (err) => isMeterStatusWorkerError(err, "NotValid"),
    );
  });

  it("escalates while isolated and migrates the disk state on reconnect (default grace periods)", async () => {
    const s = await setup();
    await s.manager.apiConnected(s.client);
    await s.client.drained();
    assert.deepEqual(s.runner.runs, []);
    const iso = (await s.manager.apiLost()) as IsolatedWorker;
    s.clock.advance(5 * 60_000);
    await iso.idle();
    assert.deepEqual(s.runner.runs, [{ code: "AMBER", info: DISCONNECTED_INFO }]);
    s.clock.advance(10 * 60_000);
    await iso.idle();
    assert.deepEqual(await s.disk.read(), {
      code: "RED",
      info: DISCONNECTED_INFO,
      disconnected: { disconnectedAt: t0, state: 3 },
    });
    await s.manager.apiConnected(s.client);
    await s.client.drained();
    assert.equal(await s.disk.readRaw(), undefined);
    assert.deepEqual(s.runner.runs.at(-1), { code: "GREEN", info: "" });
    assert.deepEqual(parseState(s.client.workerState), {
      code: "GREEN",
      info: "",
      disconnected: { disconnectedAt: t0, state: 3 },
    });
    assert.equal(s.manager.mode, "connected");
    await s.manager.stop();
  });

  it("fails to connect when the controller write of the migration fails, keeping the file", async () => {
    const s = await setup();
    await writeFile(s.disk.path, formatState({ code: "AMBER", info: "x" }));
    s.client.setError = new Error("unavailable");
    await assert.rejects(s.manager.apiConnected(s.client), /unavailable/);
    assert.notEqual(await s.disk.readRaw(), undefined);
  });
});

describe("migrateDiskState", () => {
  it("copies the raw content, deletes the file, and only warns when the delete fails", async () => {
    const s = await setup();
    const content = formatState({ code: "RED", info: "i", disconnected: { disconnectedAt: 3, state: 3 } });
    await writeFile(s.disk.path, content);
    await migrateDiskState(s.disk, s.client, "my-app/0", s.logger);
    assert.equal(s.client.workerState, content);
    assert.equal(await s.disk.readRaw(), undefined);

    await writeFile(s.disk.path, content);
    const stuck = new DiskStateFile(s.disk.path);
    stuck.remove = () => Promise.reject(new Error("read-only file system"));
    await migrateDiskState(stuck, s.client, "my-app/0", s.logger);
    assert.match(
      s.logger.lines.join("\n"),
      /^warn cannot remove meter status state file .*read-only file system/,
    );
  });

  it("does nothing without a file and fails on other read errors", async () => {
    const s = await setup();
    const before = s.client.writes;
    await migrateDiskState(s.disk, s.client, "my-app/0", s.logger);
    assert.equal(s.client.writes, before);
    await assert.rejects(migrateDiskState(new DiskStateFile(s.dataDir), s.client, "my-app/0", s.logger));
  });
});
