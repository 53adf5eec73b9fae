import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { ManualClock } from "@concord/clock";
import { createTestDatabase, type TestDatabase } from "@concord/db";
import { subjectFilter } from "@concord/events";
import { Code, type ConcordError, createClient } from "@concord/grpc";
import { ChangeEventSchema } from "@concord/proto/events/v1/events";
import { MeterStatusService } from "@concord/proto/meterstatus/v1/meterstatus";
import { type MeterStatusFixture, startMeterStatusFixture } from "./testing";

const MODEL = "3a0f4b57-1111-4000-8000-00000000aaaa";
const DAY = 86_400_000;
let db: TestDatabase;
let dir: string;
let fx: MeterStatusFixture;
const clock = new ManualClock(Date.UTC(2026, 0, 1));

before(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "meterstatus-server-"));
  fx = await startMeterStatusFixture({ databaseUrl: db.url, eventsDir: dir, clock });
});
after(async () => {
  await fx.stop();
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

const admin = () => createClient(MeterStatusService, fx.address, { token: fx.adminToken });
async function as(tag: string) {
  return createClient(MeterStatusService, fx.address, { token: await fx.issue(tag) });
}
const rejectsWith = (code: Code, kind: string, message?: string) => (e: ConcordError) =>
  e.code === code && e.kind === kind && (message === undefined || e.message === message);

describe("meterstatus service over gRPC", () => {
  it('learns a unit from its event: NOT SET on the controller, AMBER "not set" for its agent, and publishes it', async () => {
    await fx.unitEvent(MODEL, "web/0");
    const list = await admin().listMeterStatuses({ modelUuid: MODEL });
    assert.deepEqual(
      list.units.map((u) => [u.unit, u.own?.code, u.own?.info, u.effective?.code, u.display]),
      [["web/0", "NOT SET", "", "NOT SET", undefined]],
    );
    const agent = await as("unit-web-0");
    const res = await agent.getMeterStatus({ modelUuid: MODEL, units: ["web/0"] });
    assert.deepEqual(
      res.results.map((r) => [r.unit, r.code, r.info, r.error]),
      [["web/0", "AMBER", "not set", undefined]],
    );
    await fx.published();
    const last = await fx.events.lastPerSubject(subjectFilter({ modelUuid: MODEL, kind: "meterStatus" }));
    const event = fromBinary(ChangeEventSchema, last.messages[0]!.data);
    assert.equal(event.change.case, "entity");
    assert.deepEqual(
      event.change.case === "entity" && event.change.value.kind.case === "meterStatus"
        ? [event.source, event.change.value.kind.value.unit, event.change.value.kind.value.code]
        : undefined,
      ["meterstatus", "web/0", "NOT SET"],
    );
  });

  it("accepts only GREEN, AMBER and RED, with Juju's message", async () => {
    for (const code of ["NOT SET", "NOT AVAILABLE", "green", "PURPLE"]) {
      await assert.rejects(
        admin().setMeterStatus({
          modelUuid: MODEL,
          target: { case: "unit", value: "web/0" },
          code,
          info: "",
        }),
        rejectsWith(Code.INVALID_ARGUMENT, "NotValid", `meter status "${code}" not valid`),
      );
    }
    const res = await admin().setMeterStatus({
      modelUuid: MODEL,
      target: { case: "unit", value: "web/0" },
      code: "GREEN",
      info: "paid",
    });
    assert.deepEqual(res.changed, ["web/0"]);
    const again = await admin().setMeterStatus({
      modelUuid: MODEL,
      target: { case: "unit", value: "web/0" },
      code: "GREEN",
      info: "paid",
    });
    assert.deepEqual(again.changed, []);
    await assert.rejects(
      admin().setMeterStatus({
        modelUuid: MODEL,
        target: { case: "unit", value: "web/9" },
        code: "RED",
        info: "",
      }),
      rejectsWith(Code.NOT_FOUND, "NotFound"),
    );
  });

  it("sets every alive unit of an application and refuses a unit that is not alive", async () => {
    await fx.unitEvent(MODEL, "db/0");
    await fx.unitEvent(MODEL, "db/1");
    await fx.unitEvent(MODEL, "db/2");
    await fx.unitEvent(MODEL, "db/2", "dying");
    const res = await admin().setMeterStatus({
      modelUuid: MODEL,
      target: { case: "application", value: "db" },
      code: "RED",
      info: "overdue",
    });
    assert.deepEqual(res.changed, ["db/0", "db/1"]);
    await assert.rejects(
      admin().setMeterStatus({
        modelUuid: MODEL,
        target: { case: "unit", value: "db/2" },
        code: "RED",
        info: "",
      }),
      rejectsWith(Code.FAILED_PRECONDITION, "UnitNotAlive"),
    );
    await assert.rejects(
      admin().setMeterStatus({
        modelUuid: MODEL,
        target: { case: "application", value: "nope" },
        code: "RED",
        info: "",
      }),
      rejectsWith(Code.NOT_FOUND, "NotFound", 'application "nope" not found'),
    );
  });

  it("lets a unit agent read only itself, an application agent its units", async () => {
    const web0 = await as("unit-web-0");
    const res = await web0.getMeterStatus({ modelUuid: MODEL, units: ["web/0", "db/0"] });
    assert.deepEqual(
      res.results.map((r) => [r.unit, r.code, r.info, r.error?.kind, r.error?.message]),
      [
        ["web/0", "GREEN", "paid", undefined, undefined],
        ["db/0", "", "", "Unauthorized", "permission denied"],
      ],
    );
    const dbApp = await as("application-db");
    const res2 = await dbApp.getMeterStatus({ modelUuid: MODEL, units: ["db/0", "web/0"] });
    assert.deepEqual(
      res2.results.map((r) => [r.code, r.error?.kind]),
      [
        ["RED", undefined],
        ["", "Unauthorized"],
      ],
    );
    await assert.rejects(
      (async () => {
        for await (const _ of web0.watchMeterStatus({ modelUuid: MODEL, unit: "db/0" })) break;
      })(),
      rejectsWith(Code.PERMISSION_DENIED, "Unauthorized"),
    );
    await assert.rejects(
      web0.getWorkerState({ modelUuid: MODEL, unit: "db/0" }),
      rejectsWith(Code.PERMISSION_DENIED, "Unauthorized"),
    );
    await assert.rejects(
      admin().listMeterStatuses({ modelUuid: MODEL }, { token: await fx.issue("unit-web-0") }),
      rejectsWith(Code.PERMISSION_DENIED, "PermissionDenied"),
    );
  });

  it('reports a removed unit as RED "not available" with a NotFound error, and publishes the removal', async () => {
    await fx.unitEvent(MODEL, "gone/0");
    await fx.unitEvent(MODEL, "gone/0", "removed");
    const res = await (await as("unit-gone-0")).getMeterStatus({ modelUuid: MODEL, units: ["gone/0"] });
    assert.deepEqual(
      res.results.map((r) => [r.code, r.info, r.error?.kind, r.error?.message]),
      [["RED", "not available", "NotFound", "cannot retrieve meter status for unit gone/0: not found"]],
    );
    await fx.published();
    const last = await fx.events.lastPerSubject(subjectFilter({ modelUuid: MODEL, kind: "meterStatus" }));
    const removal = last.messages
      .map((m) => fromBinary(ChangeEventSchema, m.data))
      .find((e) => e.id === "gone/0");
    assert.equal(removal?.change.case, "removed");
  });

  it("keeps the unit's worker state for its agent", async () => {
    const web0 = await as("unit-web-0");
    assert.equal((await web0.getWorkerState({ modelUuid: MODEL, unit: "web/0" })).state, "");
    await web0.setWorkerState({ modelUuid: MODEL, unit: "web/0", state: "status-code: GREEN\n" });
    assert.equal(
      (await web0.getWorkerState({ modelUuid: MODEL, unit: "web/0" })).state,
      "status-code: GREEN\n",
    );
    await assert.rejects(
      admin().getWorkerState({ modelUuid: MODEL, unit: "web/7" }),
      rejectsWith(Code.NOT_FOUND, "NotFound"),
    );
  });

  it("combines the metrics-manager status on the controller's clock", async () => {
    const m = "3a0f4b57-1111-4000-8000-00000000bbbb";
    await fx.unitEvent(m, "app/0");
    await admin().setMeterStatus({
      modelUuid: m,
      target: { case: "unit", value: "app/0" },
      code: "GREEN",
      info: "Unit",
    });
    await admin().recordMetricsSend({ modelUuid: m, success: true, gracePeriodSeconds: 0n });
    for (let i = 0; i < 3; i++)
      await admin().recordMetricsSend({ modelUuid: m, success: false, gracePeriodSeconds: 0n });
    const agent = await as("unit-app-0");
    const get = async () => {
      const r = (await agent.getMeterStatus({ modelUuid: m, units: ["app/0"] })).results[0]!;
      return [r.code, r.info];
    };
    assert.deepEqual(await get(), ["AMBER", "failed to send metrics"]);
    clock.advance(7 * DAY);
    assert.deepEqual(await get(), ["RED", "failed to send metrics, exceeded grace period"]);
    const mm = await admin().getMetricsManager({ modelUuid: m });
    assert.equal(mm.consecutiveErrors, 3);
    assert.equal(mm.gracePeriodSeconds, 604_800n);
    await assert.rejects(
      admin().setMetricsGracePeriod({ modelUuid: m, gracePeriodSeconds: -1n }),
      rejectsWith(Code.INVALID_ARGUMENT, "NotValid"),
    );
    await admin().recordMetricsSend({ modelUuid: m, success: true, gracePeriodSeconds: 86_400n });
    assert.deepEqual(await get(), ["GREEN", "Unit"]);
    assert.equal((await admin().getMetricsManager({ modelUuid: m })).gracePeriodSeconds, 86_400n);
  });

  it("watches one unit: one initial event, one per change of its status or the metrics manager, none otherwise", async () => {
    const m = "3a0f4b57-1111-4000-8000-00000000cccc";
    await fx.unitEvent(m, "w/0");
    await fx.unitEvent(m, "w/1");
    const agent = await as("unit-w-0");
    const abort = new AbortController();
    const it = agent
      .watchMeterStatus({ modelUuid: m, unit: "w/0" }, { signal: abort.signal })
      [Symbol.asyncIterator]();
    const next = async () => {
      const r = await it.next();
      return r.done ? "done" : [r.value.status?.code, r.value.status?.info];
    };
    assert.deepEqual(await next(), ["AMBER", "not set"]);
    // Changes that are not events for w/0: another unit, w/0's worker state, the model's own status.
    await admin().setMeterStatus({
      modelUuid: m,
      target: { case: "unit", value: "w/1" },
      code: "RED",
      info: "",
    });
    await agent.setWorkerState({ modelUuid: m, unit: "w/0", state: "status-code: AMBER\n" });
    await admin().setModelMeterStatus({ modelUuid: m, code: "RED", info: "model" });
    await admin().setMeterStatus({
      modelUuid: m,
      target: { case: "unit", value: "w/0" },
      code: "GREEN",
      info: "g",
    });
    assert.deepEqual(await next(), ["GREEN", "g"]);
    for (let i = 0; i < 3; i++)
      await admin().recordMetricsSend({ modelUuid: m, success: false, gracePeriodSeconds: 0n });
    // Each metrics-manager change is an event, though changes that commit before the watcher re-reads coalesce.
    const seen = [];
    for (let e = await next(); ; e = await next()) {
      seen.push(e);
      if (e === "done" || e[0] === "RED") break;
    }
    assert.deepEqual(seen.at(-1), ["RED", "failed to send metrics, exceeded grace period"]);
    assert.ok(
      seen.length <= 3 && seen.slice(0, -1).every((e) => e !== "done" && e[0] === "GREEN"),
      String(seen),
    );
    // Gone, but a RED metrics manager still wins over a missing unit (spec §5).
    await fx.unitEvent(m, "w/0", "removed");
    assert.deepEqual(await next(), ["RED", "failed to send metrics, exceeded grace period"]);
    abort.abort();
    await assert.rejects(it.next(), rejectsWith(Code.CANCELLED, "Unknown"));
  });
});
