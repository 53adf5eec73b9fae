// End to end: an admin sets a unit's meter status; the unit's meter-status worker, connected over gRPC, runs a
// real hook script; the service goes away and the isolated worker turns AMBER then RED on a manual clock; the
// service comes back on the same port and the disk state moves to the controller.
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createTestDatabase, type TestDatabase } from "@concord/db";
import { createClient } from "@concord/grpc";
import { MachineLock } from "@concord/hook-runner";
import {
  DISCONNECTED_INFO,
  GrpcMeterStatusClient,
  type IsolatedWorker,
  ManualClock,
  MeterStatusManager,
  newHookRunner,
  nullLogger,
  parseState,
} from "@concord/meterstatus-worker";
import { MemoryLogger } from "@concord/meterstatus-worker/testing";
import { MeterStatusService } from "@concord/proto/meterstatus/v1/meterstatus";
import { type MeterStatusFixture, startMeterStatusFixture } from "./testing";

const MODEL = "0c7e58d2-2222-4000-8000-00000000e2e0";
const UNIT = "billing/0";
const T0 = 1_750_000_000;

/** Values pushed by callbacks, awaited one at a time (no polling). */
class Queue<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((v: T) => void)[] = [];
  push(v: T): void {
    const w = this.#waiters.shift();
    if (w) w(v);
    else this.#items.push(v);
  }
  next(): Promise<T> {
    const v = this.#items.shift();
    if (v !== undefined) return Promise.resolve(v);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

/** The agent's gRPC client, telling the test about every state write. */
class ObservedClient extends GrpcMeterStatusClient {
  readonly writes = new Queue<string>();
  override async setWorkerState(unitName: string, yaml: string): Promise<void> {
    await super.setWorkerState(unitName, yaml);
    this.writes.push(yaml);
  }
}

let db: TestDatabase;
let base: string;
const stops: (() => Promise<void>)[] = [];
before(async () => {
  db = await createTestDatabase();
  base = await mkdtemp(join(tmpdir(), "meterstatus-e2e-"));
});
after(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await db.drop();
  await rm(base, { recursive: true, force: true });
});

test("meter status from the admin's command to the hook, through a disconnect and back", async () => {
  const eventsDir = join(base, "events");
  const dataDir = join(base, "agent");
  const charmDir = join(base, "charm");
  const hookLog = join(base, "hook.log");
  await mkdir(dataDir);
  await mkdir(join(charmDir, "hooks"), { recursive: true });
  const hook = join(charmDir, "hooks", "meter-status-changed");
  await writeFile(
    hook,
    `#!/bin/sh\nprintf '%s|%s|%s|%s|%s|%s\\n' "$JUJU_UNIT_NAME" "$JUJU_METER_STATUS" "$JUJU_METER_INFO" "$JUJU_CONTEXT_ID" "$CHARM_DIR" "$JUJU_MODEL_UUID" >> '${hookLog}'\n`,
  );
  await chmod(hook, 0o755);
  const hookRuns = async () =>
    (await readFile(hookLog, "utf8").catch(() => ""))
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.split("|"));

  // The service, and the unit as the relation service announces it.
  let fx: MeterStatusFixture = await startMeterStatusFixture({ databaseUrl: db.url, eventsDir });
  stops.push(() => fx.stop());
  const port = fx.port;
  await fx.unitEvent(MODEL, UNIT);
  const admin = () => createClient(MeterStatusService, fx.address, { token: fx.adminToken });
  await admin().setMeterStatus({
    modelUuid: MODEL,
    target: { case: "unit", value: UNIT },
    code: "GREEN",
    info: "paid up",
  });

  // The unit agent's worker, connected over gRPC, with a real hook runner under the machine lock.
  const clock = new ManualClock(T0 * 1000);
  const logger = new MemoryLogger();
  const manager = new MeterStatusManager({
    agentTag: "unit-billing-0",
    dataDir,
    clock,
    logger,
    runner: newHookRunner({
      unitName: UNIT,
      modelUUID: MODEL,
      charmDir,
      lock: new MachineLock({ dataDir }),
      logger: nullLogger,
    }),
  });
  stops.push(() => manager.stop());
  const token = await fx.issue("unit-billing-0");
  const client = new ObservedClient({ address: `127.0.0.1:${port}`, token, modelUuid: MODEL });
  stops.push(async () => client.close());

  await manager.apiConnected(client);
  assert.deepEqual(parseState(await client.writes.next()), { code: "GREEN", info: "paid up" });
  const [first] = await hookRuns();
  assert.deepEqual(first?.slice(0, 3), [UNIT, "GREEN", "paid up"]);
  assert.match(first?.[3] ?? "", /^billing\/0-meter-status-\d+$/);
  assert.deepEqual(first?.slice(4), [charmDir, MODEL]);

  await admin().setMeterStatus({
    modelUuid: MODEL,
    target: { case: "unit", value: UNIT },
    code: "RED",
    info: "payment overdue",
  });
  assert.deepEqual(parseState(await client.writes.next()), { code: "RED", info: "payment overdue" });
  assert.deepEqual((await hookRuns()).at(-1)?.slice(1, 3), ["RED", "payment overdue"]);

  // The service goes away: the agent switches to the isolated worker, which escalates on its own clock.
  await fx.stop();
  const isolated = (await manager.apiLost()) as IsolatedWorker;
  const stateFile = join(dataDir, "meter-status.yaml");
  clock.advance(5 * 60_000 - 1);
  await isolated.idle();
  assert.equal((await hookRuns()).length, 2);
  clock.advance(1);
  await isolated.idle();
  assert.deepEqual((await hookRuns()).at(-1)?.slice(1, 3), ["AMBER", DISCONNECTED_INFO]);
  assert.deepEqual(parseState(await readFile(stateFile, "utf8")), {
    code: "AMBER",
    info: DISCONNECTED_INFO,
    disconnected: { disconnectedAt: T0, state: 2 },
  });
  clock.advance(10 * 60_000);
  await isolated.idle();
  assert.deepEqual((await hookRuns()).at(-1)?.slice(1, 3), ["RED", DISCONNECTED_INFO]);
  assert.deepEqual(parseState(await readFile(stateFile, "utf8")), {
    code: "RED",
    info: DISCONNECTED_INFO,
    disconnected: { disconnectedAt: T0, state: 3 },
  });

  // The service comes back on the same port: the disk state moves to the controller, and the controller's
  // status (RED "payment overdue") differs from the migrated one, so the hook runs once more.
  fx = await startMeterStatusFixture({ databaseUrl: db.url, eventsDir, address: `127.0.0.1:${port}` });
  await manager.apiConnected(client);
  assert.deepEqual(parseState(await client.writes.next()), {
    code: "RED",
    info: DISCONNECTED_INFO,
    disconnected: { disconnectedAt: T0, state: 3 },
  });
  assert.deepEqual(parseState(await client.writes.next()), {
    code: "RED",
    info: "payment overdue",
    disconnected: { disconnectedAt: T0, state: 3 },
  });
  await assert.rejects(readFile(stateFile, "utf8"), { code: "ENOENT" });
  const runs = await hookRuns();
  assert.deepEqual(
    runs.map((r) => r.slice(1, 3)),
    [
      ["GREEN", "paid up"],
      ["RED", "payment overdue"],
      ["AMBER", DISCONNECTED_INFO],
      ["RED", DISCONNECTED_INFO],
      ["RED", "payment overdue"],
    ],
  );
  const saved = await admin().getWorkerState({ modelUuid: MODEL, unit: UNIT });
  assert.deepEqual(parseState(saved.state), {
    code: "RED",
    info: "payment overdue",
    disconnected: { disconnectedAt: T0, state: 3 },
  });
  // The only error: the connected worker's watch ended with the server going away.
  assert.deepEqual(
    logger.lines.filter((l) => l.startsWith("error")),
    ["error meter status connected worker died: server shutting down; reconnect and resume"],
  );
});
