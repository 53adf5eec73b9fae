// Runs meterstatus.json. `triggers` and `workers` run against @concord/meterstatus-worker on a manual clock,
// with a real agent data dir, a real charm dir and a real meter-status-changed script run through
// @concord/hook-runner under the machine lock. `controller` runs against a ControllerSubject: by default the
// real meterstatus service over gRPC on a fresh Postgres database (`grpcSubject`); checks whose inputs the
// service cannot hold (a stored NOT AVAILABLE, a metrics manager that is NOT SET) use the pure domain and are
// counted on stderr. `domainSubject` runs the whole section on the pure domain.
import { randomUUID } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { systemClock } from "@concord/clock";
import { createTestDatabase } from "@concord/db";
import { type Client, createClient } from "@concord/grpc";
import { MachineLock } from "@concord/hook-runner";
import {
  combineMeterStatus,
  initialMeterStatus,
  meterStatusDisplay,
  metricsManagerStatus,
  parseMeterStatusCode,
  planModelMeterStatus,
  planUnitMeterStatus,
  SEVERITY_ORDER,
  toAgentMeterStatus,
  unitEffectiveMeterStatus,
} from "@concord/meterstatus/domain";
import { type MeterStatusFixture, startMeterStatusFixture } from "@concord/meterstatus/testing";
import {
  DiskStateFile,
  getTriggers,
  IsolatedWorker,
  ManualClock,
  MeterStatusManager,
  type MeterStatusState,
  newHookRunner,
  nullLogger,
} from "@concord/meterstatus-worker";
import { FakeMeterStatusClient, RecordingRunner } from "@concord/meterstatus-worker/testing";
import { MeterStatusService } from "@concord/proto/meterstatus/v1/meterstatus";
import { parse, stringify } from "yaml";
import type { CaseResult, Suite } from "../types";

type Json = unknown;
type Obj = Record<string, Json>;

/** A status as the case files write it. */
export interface Status {
  code: string;
  info: string;
}

/**
 * The controller-side rules the `controller` section checks. Implemented by the pure domain now; a subject
 * that drives the real meterstatus service over gRPC can implement the same interface later.
 */
export interface ControllerSubject {
  /** combine(a, b) on two codes (infos irrelevant). */
  combine(a: string, b: string): Promise<string>;
  /** The metrics-manager status at now; `secondsSinceLastSuccessfulSend` null = never sent. */
  metricsManagerStatus(state: {
    consecutiveErrors: number;
    secondsSinceLastSuccessfulSend: number | null;
    gracePeriodSeconds: number;
  }): Promise<Status>;
  /** The controller's effective status of a unit and what the agent API returns for it. */
  unitGetMeterStatus(metricsManager: Status, unit: Status): Promise<{ effective: Status; api: Status }>;
  /** The agent-facing mapping. */
  agentView(status: Status): Promise<Status>;
  /** SetMeterStatus on a unit or on the model: ok, or the error message. */
  setMeterStatus(
    target: "unit" | "model",
    code: string,
    info: string,
  ): Promise<{ ok: true } | { ok: false; error: string }>;
  /** The status display of a unit; null when not shown. */
  statusDisplay(status: Status): Promise<{ color: string; message: string } | null>;
}

const T0 = 1_700_000_000;
const UNIT_TAG = "unit-app-0";
const UNIT_NAME = "app/0";
const STEP_TIMEOUT_MS = 30_000;

/** The pure-domain subject of @concord/meterstatus. */
export const domainSubject: ControllerSubject = {
  async combine(a, b) {
    return combineMeterStatus(
      { code: parseMeterStatusCode(a), info: "a" },
      { code: parseMeterStatusCode(b), info: "b" },
    ).code;
  },
  async metricsManagerStatus(s) {
    const now = T0 * 1000;
    return metricsManagerStatus(
      {
        consecutiveErrors: s.consecutiveErrors,
        lastSuccessfulSend:
          s.secondsSinceLastSuccessfulSend === null
            ? undefined
            : now - s.secondsSinceLastSuccessfulSend * 1000,
        gracePeriodMs: s.gracePeriodSeconds * 1000,
      },
      now,
    );
  },
  async unitGetMeterStatus(mm, unit) {
    const { status } = unitEffectiveMeterStatus({
      unitName: UNIT_NAME,
      metricsManager: { code: parseMeterStatusCode(mm.code), info: mm.info },
      unit: { code: parseMeterStatusCode(unit.code), info: unit.info },
    });
    return { effective: status, api: toAgentMeterStatus(status) };
  },
  async agentView(status) {
    return toAgentMeterStatus({ code: parseMeterStatusCode(status.code), info: status.info });
  },
  async setMeterStatus(target, code, info) {
    try {
      if (target === "model") planModelMeterStatus(initialMeterStatus(), code, info);
      else planUnitMeterStatus({ name: UNIT_NAME, life: "alive" }, initialMeterStatus(), code, info);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
  },
  async statusDisplay(status) {
    return meterStatusDisplay({ code: parseMeterStatusCode(status.code), info: status.info }) ?? null;
  },
};

/** A case expectation did not hold: the message is the case's failure reason. */
class Mismatch extends Error {}

const isObj = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: Json) => JSON.stringify(v);

function fail(message: string): never {
  throw new Mismatch(message);
}

function expectEqual(what: string, actual: Json, expected: Json): void {
  if (!isDeepStrictEqual(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

function status(v: Json, what: string): Status {
  if (!isObj(v) || typeof v.code !== "string" || typeof v.info !== "string")
    fail(`${what}: not a {code, info}`);
  return { code: v.code, info: v.info };
}

/** The cases of a controller sub-section, which is either a list or an object with `cases`. */
function casesOf(v: Json): Obj[] {
  const list = Array.isArray(v) ? v : isObj(v) && Array.isArray(v.cases) ? v.cases : [];
  return list.filter(isObj);
}

async function runCase(report: (r: CaseResult) => void, c: Obj, body: () => Promise<void>): Promise<void> {
  const id = String(c.id);
  const name = typeof c.name === "string" ? c.name : id;
  try {
    await body();
    report({ id, name });
  } catch (err) {
    report({
      id,
      name,
      failure: err instanceof Mismatch ? err.message : String((err as Error).stack ?? err),
    });
  }
}

/** The meterstatus suite against a given controller subject. */
export function meterStatusSuite(subject: ControllerSubject): Suite {
  return async (doc, report) => {
    if (!isObj(doc)) throw new Error("case file is not an object");
    const defaults = isObj(doc.defaults) ? doc.defaults : {};
    const amberDefault = typeof defaults.amberGraceSeconds === "number" ? defaults.amberGraceSeconds : 300;
    const redDefault = typeof defaults.redGraceSeconds === "number" ? defaults.redGraceSeconds : 900;

    for (const c of (Array.isArray(doc.triggers) ? doc.triggers : []).filter(isObj)) {
      await runCase(report, c, async () => runTriggersCase(c));
    }
    for (const c of (Array.isArray(doc.workers) ? doc.workers : []).filter(isObj)) {
      await runCase(report, c, async () => runWorkersCase(c, amberDefault, redDefault));
    }
    if (isObj(doc.controller)) await runController(doc.controller, subject, report);
  };
}

const SETTABLE = ["GREEN", "AMBER", "RED"];
const MM_STATUSES: Record<string, string> = {
  GREEN: "ok",
  AMBER: "failed to send metrics",
  RED: "failed to send metrics, exceeded grace period",
};

/**
 * The controller section against the real service: a fresh model per check, units appearing through unit
 * events, statuses set through SetMeterStatus, the metrics manager driven through RecordMetricsSend on the
 * service's clock, and the answers read back through GetMeterStatus (as the unit's agent) and
 * ListMeterStatuses. `fallbacks` counts the checks the service cannot express, run on `domainSubject`.
 */
export function grpcSubject(
  fx: MeterStatusFixture,
  clock: { set(ms: number): void },
): ControllerSubject & {
  fallbacks: number;
  close(): void;
} {
  const now = T0 * 1000;
  const admin = createClient(MeterStatusService, fx.address, { token: fx.adminToken });
  let agentToken: string | undefined;
  const agent = async (): Promise<Client<typeof MeterStatusService>> => {
    agentToken ??= await fx.issue(UNIT_TAG);
    return createClient(MeterStatusService, fx.address, { token: agentToken });
  };
  const newModel = async (withUnit = true) => {
    const model = randomUUID();
    if (withUnit) await fx.unitEvent(model, UNIT_NAME);
    return model;
  };
  const setUnit = async (model: string, st: Status) => {
    if (st.code === "NOT SET") return;
    await admin.setMeterStatus({ modelUuid: model, target: { case: "unit", value: UNIT_NAME }, ...st });
  };
  // GREEN: nothing sent yet and no failure; AMBER: a success just now, then 3 failures; RED: 3 failures only.
  const setMetricsManager = async (model: string, code: string) => {
    clock.set(now);
    if (code === "AMBER") await admin.recordMetricsSend({ modelUuid: model, success: true });
    if (code !== "GREEN") {
      for (let i = 0; i < 3; i++) await admin.recordMetricsSend({ modelUuid: model, success: false });
    }
  };
  const agentStatus = async (model: string): Promise<Status> => {
    const client = await agent();
    try {
      const r = (await client.getMeterStatus({ modelUuid: model, units: [UNIT_NAME] })).results[0];
      return { code: r?.code ?? "", info: r?.info ?? "" };
    } finally {
      client.close();
    }
  };
  const listed = async (model: string) => (await admin.listMeterStatuses({ modelUuid: model })).units[0];
  const canSetUnit = (st: Status) => (st.code === "NOT SET" ? st.info === "" : SETTABLE.includes(st.code));
  const canSetMm = (st: Status) => MM_STATUSES[st.code] === st.info;

  const subject = {
    fallbacks: 0,
    close: () => admin.close(),
    async combine(a: string, b: string) {
      if (!(a in MM_STATUSES) || !canSetUnit({ code: b, info: b === "NOT SET" ? "" : "b" })) {
        subject.fallbacks++;
        return domainSubject.combine(a, b);
      }
      const model = await newModel();
      await setMetricsManager(model, a);
      await setUnit(model, { code: b, info: "b" });
      return (await listed(model))?.effective?.code ?? "";
    },
    async metricsManagerStatus(s: Parameters<ControllerSubject["metricsManagerStatus"]>[0]) {
      const model = await newModel(false);
      if (s.secondsSinceLastSuccessfulSend !== null) {
        clock.set(now - s.secondsSinceLastSuccessfulSend * 1000);
        await admin.recordMetricsSend({ modelUuid: model, success: true });
      }
      clock.set(now);
      await admin.setMetricsGracePeriod({
        modelUuid: model,
        gracePeriodSeconds: BigInt(s.gracePeriodSeconds),
      });
      for (let i = 0; i < s.consecutiveErrors; i++) {
        await admin.recordMetricsSend({ modelUuid: model, success: false });
      }
      const st = (await admin.getMetricsManager({ modelUuid: model })).status;
      return { code: st?.code ?? "", info: st?.info ?? "" };
    },
    async unitGetMeterStatus(mm: Status, unit: Status) {
      if (!canSetMm(mm) || !canSetUnit(unit)) {
        subject.fallbacks++;
        return domainSubject.unitGetMeterStatus(mm, unit);
      }
      const model = await newModel();
      await setMetricsManager(model, mm.code);
      await setUnit(model, unit);
      const eff = (await listed(model))?.effective;
      return { effective: { code: eff?.code ?? "", info: eff?.info ?? "" }, api: await agentStatus(model) };
    },
    async agentView(status: Status) {
      // NOT AVAILABLE is what a unit the service does not know reads as.
      const known = status.code !== "NOT AVAILABLE";
      if (known && !canSetUnit(status)) {
        subject.fallbacks++;
        return domainSubject.agentView(status);
      }
      const model = await newModel(known);
      if (known) await setUnit(model, status);
      return agentStatus(model);
    },
    async setMeterStatus(target: "unit" | "model", code: string, info: string) {
      const model = await newModel(target === "unit");
      try {
        if (target === "model") await admin.setModelMeterStatus({ modelUuid: model, code, info });
        else
          await admin.setMeterStatus({
            modelUuid: model,
            target: { case: "unit", value: UNIT_NAME },
            code,
            info,
          });
        return { ok: true } as const;
      } catch (err) {
        return { ok: false, error: (err as Error).message } as const;
      }
    },
    async statusDisplay(status: Status) {
      if (status.code !== "NOT SET" && !canSetUnit(status)) {
        subject.fallbacks++;
        return domainSubject.statusDisplay(status);
      }
      const model = await newModel();
      await setUnit(model, status);
      const d = (await listed(model))?.display;
      return d ? { color: d.color, message: d.message } : null;
    },
  };
  return subject;
}

/**
 * The suite run by the harness: the controller section against the real service (a fresh test database, an
 * embedded event log, a clock the subject sets) over gRPC.
 */
export const suite: Suite = async (doc, report) => {
  const db = await createTestDatabase();
  const eventsDir = await mkdtemp(join(tmpdir(), "concord-meterstatus-events-"));
  let nowMs = T0 * 1000;
  const clock = {
    now: () => nowMs,
    setTimer: systemClock.setTimer,
    set(ms: number) {
      nowMs = ms;
    },
  };
  const fx = await startMeterStatusFixture({ databaseUrl: db.url, eventsDir, clock });
  const subject = grpcSubject(fx, clock);
  try {
    await meterStatusSuite(subject)(doc, report);
    if (subject.fallbacks > 0) {
      console.error(
        `meterstatus: ${subject.fallbacks} controller check(s) ran on the pure domain (inputs the service cannot hold)`,
      );
    }
  } finally {
    subject.close();
    await fx.stop();
    await db.drop();
    await rm(eventsDir, { recursive: true, force: true });
  }
};

function runTriggersCase(c: Obj): void {
  const now = T0 * 1000;
  const n = (k: string) => {
    const v = c[k];
    if (typeof v !== "number") fail(`${k}: expected a number, got ${show(v)}`);
    return v;
  };
  const t = getTriggers(
    n("workerStateValue"),
    String(c.status ?? ""),
    now + n("disconnectedAtOffset") * 1000,
    now,
    n("amberGrace") * 1000,
    n("redGrace") * 1000,
  );
  const secs = (ms: number | undefined) => (ms === undefined ? null : ms / 1000);
  const clamp = (ms: number | undefined) => (ms === undefined ? null : Math.max(0, ms) / 1000);
  if (c.expectRaw !== undefined) {
    expectEqual("expectRaw", { amberDelay: secs(t.amberDelayMs), redDelay: secs(t.redDelayMs) }, c.expectRaw);
  }
  if (c.expect !== undefined) {
    expectEqual("expect", { amberFiresIn: clamp(t.amberDelayMs), redFiresIn: clamp(t.redDelayMs) }, c.expect);
  }
}

/** Counts the isolated worker's disk writes. */
class CountingDiskState extends DiskStateFile {
  writes = 0;
  override async write(state: MeterStatusState): Promise<void> {
    this.writes++;
    await super.write(state);
  }
}

async function runWorkersCase(c: Obj, amberDefault: number, redDefault: number): Promise<void> {
  const config = isObj(c.config) ? c.config : {};
  const initial = isObj(c.initial) ? c.initial : {};
  const steps = Array.isArray(c.steps) ? c.steps.filter(isObj) : fail("no steps");
  const amber = typeof config.amberGrace === "number" ? config.amberGrace : amberDefault;
  const red = typeof config.redGrace === "number" ? config.redGrace : redDefault;
  const outcome = config.hookOutcome ?? "ok";
  if (outcome !== "ok" && outcome !== "missing-hook" && outcome !== "error")
    fail(`unknown hookOutcome ${show(outcome)}`);

  const base = await mkdtemp(join(tmpdir(), `concord-${String(c.id)}-`));
  const dataDir = join(base, "agent");
  const charmDir = join(base, "charm");
  const hookLog = join(base, "hook.log");
  await mkdir(dataDir);
  await mkdir(join(charmDir, "hooks"), { recursive: true });
  if (outcome !== "missing-hook") {
    const hook = join(charmDir, "hooks", "meter-status-changed");
    const exit = outcome === "error" ? "exit 1" : "exit 0";
    await writeFile(
      hook,
      `#!/bin/sh\nprintf '%s\\t%s\\t%s\\n' "$JUJU_UNIT_NAME" "$JUJU_METER_STATUS" "$JUJU_METER_INFO" >> '${hookLog}'\n${exit}\n`,
    );
    await chmod(hook, 0o755);
  }

  const disk = new CountingDiskState(join(dataDir, "meter-status.yaml"));
  if (isObj(initial.diskState)) await writeFile(disk.path, stringify(initial.diskState));
  const apiStatus =
    initial.apiStatus === undefined
      ? { code: "AMBER", info: "not set" }
      : status(initial.apiStatus, "apiStatus");
  const client = new FakeMeterStatusClient(
    apiStatus,
    isObj(initial.controllerState) ? stringify(initial.controllerState) : "",
  );
  const clock = new ManualClock(T0 * 1000);
  const runner = new RecordingRunner(
    newHookRunner({
      unitName: UNIT_NAME,
      modelUUID: "00000000-0000-4000-8000-000000000000",
      charmDir,
      lock: new MachineLock({ dataDir }),
      logger: nullLogger,
    }),
  );
  const manager = new MeterStatusManager({
    agentTag: UNIT_TAG,
    dataDir,
    clock,
    logger: nullLogger,
    runner,
    amberGracePeriodMs: amber * 1000,
    redGracePeriodMs: red * 1000,
    diskState: disk,
  });
  const mode =
    initial.mode === "connected"
      ? "connected"
      : initial.mode === "isolated"
        ? "isolated"
        : fail("initial.mode");

  const settle = async () => {
    if (manager.mode === "isolated" && manager.worker instanceof IsolatedWorker) await manager.worker.idle();
    else if (manager.mode === "connected") await client.drained();
  };
  const readHookLog = async () => {
    try {
      return (await readFile(hookLog, "utf8")).split("\n").filter((l) => l !== "");
    } catch {
      return [];
    }
  };

  try {
    for (const [i, step] of steps.entries()) {
      const where = `step ${i + 1} (${String(step.op)})`;
      const runsBefore = runner.runs.length;
      const logBefore = (await readHookLog()).length;
      const diskWritesBefore = disk.writes;
      const controllerWritesBefore = client.writes;
      const act = async () => {
        switch (step.op) {
          case "start":
            if (mode === "connected") await manager.apiConnected(client);
            else await manager.apiLost();
            break;
          case "advance":
            if (typeof step.seconds !== "number") fail(`${where}: no seconds`);
            clock.advance(step.seconds * 1000);
            break;
          case "statusChange":
            client.setStatus(String(step.code), String(step.info ?? ""));
            break;
          case "restart":
            await manager.restart();
            break;
          case "disconnect":
            await manager.apiLost();
            break;
          case "reconnect":
            await manager.apiConnected(client);
            break;
          default:
            fail(`${where}: unknown op`);
        }
        await settle();
      };
      await withTimeout(act(), `${where} did not settle`);

      const runs = runner.runs.slice(runsBefore);
      if (step.expectHooks !== undefined) expectEqual(`${where} hooks`, runs, step.expectHooks);
      // The real script saw exactly the recorded runs, as app/0 (Concord passes the unit name).
      const logged = (await readHookLog()).slice(logBefore);
      const expectedLog =
        outcome === "missing-hook" ? [] : runs.map((r) => `${UNIT_NAME}\t${r.code}\t${r.info}`);
      expectEqual(`${where} hook script runs`, logged, expectedLog);
      if (step.expectDiskState !== undefined) {
        const raw = await disk.readRaw();
        expectEqual(`${where} disk state`, raw === undefined ? null : parse(raw), step.expectDiskState);
      }
      if (step.expectControllerState !== undefined) {
        expectEqual(
          `${where} controller state`,
          client.workerState === "" ? null : parse(client.workerState),
          step.expectControllerState,
        );
      }
      if (step.expectWrites !== undefined) {
        const writes =
          manager.mode === "connected"
            ? client.writes - controllerWritesBefore
            : disk.writes - diskWritesBefore;
        expectEqual(`${where} writes`, writes, step.expectWrites);
      }
      if (step.expectHandlerError !== undefined) {
        const err = manager.worker?.fatalError;
        expectEqual(`${where} handler error`, err ? err.message : null, step.expectHandlerError);
      }
    }
  } finally {
    await manager.stop();
    await rm(base, { recursive: true, force: true });
  }
}

async function withTimeout<T>(p: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Mismatch(message)), STEP_TIMEOUT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function runController(
  controller: Obj,
  subject: ControllerSubject,
  report: (r: CaseResult) => void,
): Promise<void> {
  const order = controller.severityOrderMostSevereFirst;
  if (order !== undefined && !isDeepStrictEqual(order, SEVERITY_ORDER)) {
    throw new Error(`severity order ${show(order)} differs from the domain's ${show(SEVERITY_ORDER)}`);
  }
  for (const c of casesOf(controller.combine)) {
    await runCase(report, c, async () => {
      expectEqual("combine", await subject.combine(String(c.a), String(c.b)), c.expect);
    });
  }
  for (const c of casesOf(controller.metricsManager)) {
    await runCase(report, c, async () => {
      const since = c.secondsSinceLastSuccessfulSend;
      const got = await subject.metricsManagerStatus({
        consecutiveErrors: Number(c.consecutiveErrors),
        secondsSinceLastSuccessfulSend: since === null || since === undefined ? null : Number(since),
        gracePeriodSeconds: Number(c.gracePeriod),
      });
      expectEqual("metrics-manager status", got, c.expect);
    });
  }
  for (const c of casesOf(controller.unitGetMeterStatus)) {
    await runCase(report, c, async () => {
      const got = await subject.unitGetMeterStatus(
        status(c.metricsManager, "metricsManager"),
        status(c.unit, "unit"),
      );
      if (c.expect !== undefined) expectEqual("effective status", got.effective, c.expect);
      if (c.expectApi !== undefined) expectEqual("agent status", got.api, c.expectApi);
    });
  }
  for (const c of casesOf(controller.apiWrapper)) {
    await runCase(report, c, async () => {
      expectEqual("agent mapping", await subject.agentView(status(c.in, "in")), c.out);
    });
  }
  for (const c of casesOf(controller.setMeterStatus)) {
    await runCase(report, c, async () => {
      const target = c.target === "model" ? "model" : "unit";
      const got = await subject.setMeterStatus(
        target,
        String(c.code),
        typeof c.info === "string" ? c.info : "info",
      );
      if (c.ok === true) expectEqual("SetMeterStatus", got, { ok: true });
      else expectEqual("SetMeterStatus", got, { ok: false, error: c.error });
    });
  }
  for (const c of casesOf(controller.statusDisplay)) {
    await runCase(report, c, async () => {
      const got = await subject.statusDisplay({ code: String(c.code), info: String(c.info ?? "") });
      expectEqual("status display", got, c.shown ?? null);
    });
  }
}
