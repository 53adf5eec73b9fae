// The RPC handlers of concord.meterstatus.v1: decode, authorize, call the store and the domain, map errors.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Clock } from "@concord/clock";
import type { ChannelNotifier } from "@concord/db";
import { authorize, Code, ConcordError, errors, type Identity, type ServiceImpl } from "@concord/grpc";
import type {
  MeterStatusResultSchema,
  MeterStatusService,
  UnitMeterStatusSchema,
} from "@concord/proto/meterstatus/v1/meterstatus";
import type { Sql } from "postgres";
import {
  authorizeMeterStatusAccess,
  canAccessMeterStatus,
  isMeterStatusError,
  type MeterStatus,
  type MeterStatusCaller,
  type MetricsManagerState,
  meterStatusDisplay,
  metricsManagerStatus,
  toAgentMeterStatus,
  unitEffectiveMeterStatus,
} from "./domain";
import {
  listUnits,
  modelChannel,
  readMetricsManager,
  readModelMeterStatus,
  readUnitStatuses,
  readWorkerState,
  recordMetricsSend,
  setMetricsGracePeriod,
  setModelMeterStatus,
  setUnitMeterStatus,
  writeWorkerState,
} from "./store";

/** What the handlers run on. */
export interface MeterStatusServerDeps {
  sql: Sql;
  /** The controller's clock: the metrics-manager status is evaluated at its now. */
  clock: Clock;
  notifier: ChannelNotifier;
}

const KIND_CODES: Record<string, Code> = {
  NotValid: Code.INVALID_ARGUMENT,
  NotFound: Code.NOT_FOUND,
  Unauthorized: Code.PERMISSION_DENIED,
  UnitNotAlive: Code.FAILED_PRECONDITION,
};

/** A domain error as the one ConcordError; anything else passes through (the kit makes it INTERNAL). */
function mapError(err: unknown): unknown {
  if (isMeterStatusError(err))
    return new ConcordError(KIND_CODES[err.kind] ?? Code.UNKNOWN, err.kind, err.message);
  return err;
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapError(err);
  }
}

function callerOf(id: Identity): MeterStatusCaller {
  if (id.kind === "unit") return { kind: "unit", unitName: id.unit };
  if (id.kind === "application") return { kind: "application", applicationName: id.application };
  return { kind: "user", name: id.tag };
}

function requireModel(modelUuid: string): string {
  if (!modelUuid) throw errors.invalidArgument("NotValid", "model UUID is required");
  return modelUuid;
}

function requireUnit(unit: string): string {
  if (!/^[^/\s]+\/\d+$/.test(unit))
    throw errors.invalidArgument("NotValid", `unit name ${JSON.stringify(unit)} not valid`);
  return unit;
}

/** A unit's worker state belongs to that unit's agent (and the administrator). */
function authorizeWorkerState(id: Identity, unit: string): void {
  if (id.kind === "admin" || (id.kind === "unit" && id.unit === unit)) return;
  throw errors.permissionDenied("permission denied", "Unauthorized");
}

/** The agent-facing status of one unit (spec §5 then §6), with the error that made it NOT AVAILABLE. */
function agentStatus(
  unit: string,
  mm: MeterStatus,
  own: MeterStatus | undefined,
): { status: MeterStatus; error?: { kind: string; message: string } } {
  const effective = unitEffectiveMeterStatus({ unitName: unit, metricsManager: mm, unit: own });
  const status = toAgentMeterStatus(effective.status);
  if (!effective.error) return { status };
  const kind = isMeterStatusError(effective.error) ? effective.error.kind : "NotAvailable";
  return { status, error: { kind, message: effective.error.message } };
}

const seconds = (ms: number) => BigInt(Math.trunc(ms / 1000));

/** The MeterStatusService handlers. */
export function meterStatusHandlers(deps: MeterStatusServerDeps): ServiceImpl<typeof MeterStatusService> {
  const { sql, clock, notifier } = deps;
  const mmStatus = (s: MetricsManagerState) => metricsManagerStatus(s, clock.now());

  return {
    async setMeterStatus(req, ctx) {
      authorize.admin(ctx.identity, "set meter status");
      const model = requireModel(req.modelUuid);
      const target =
        req.target.case === "unit"
          ? { unit: requireUnit(req.target.value) }
          : req.target.case === "application" && req.target.value
            ? { application: req.target.value }
            : undefined;
      if (!target) throw errors.invalidArgument("NotValid", "a unit or an application is required");
      const changed = await mapped(() => setUnitMeterStatus(sql, model, target, req.code, req.info));
      return { changed };
    },

    async setModelMeterStatus(req, ctx) {
      authorize.admin(ctx.identity, "set the model's meter status");
      await mapped(() => setModelMeterStatus(sql, requireModel(req.modelUuid), req.code, req.info));
      return {};
    },

    async listMeterStatuses(req, ctx) {
      authorize.admin(ctx.identity, "list meter statuses");
      const model = requireModel(req.modelUuid);
      const [own, state, units] = await Promise.all([
        readModelMeterStatus(sql, model),
        readMetricsManager(sql, model),
        listUnits(sql, model, req.application || undefined),
      ]);
      const mm = mmStatus(state);
      return {
        model: own,
        metricsManager: mm,
        units: units.map((u): MessageInitShape<typeof UnitMeterStatusSchema> => {
          const { status } = unitEffectiveMeterStatus({ unitName: u.name, metricsManager: mm, unit: u });
          const display = meterStatusDisplay(status);
          return {
            unit: u.name,
            own: { code: u.code, info: u.info },
            effective: status,
            ...(display ? { display } : {}),
          };
        }),
      };
    },

    async recordMetricsSend(req, ctx) {
      authorize.admin(ctx.identity, "record metrics sends");
      const model = requireModel(req.modelUuid);
      const state = await mapped(() =>
        recordMetricsSend(
          sql,
          model,
          { success: req.success, gracePeriodMs: Number(req.gracePeriodSeconds) * 1000 },
          clock.now(),
        ),
      );
      return { status: mmStatus(state) };
    },

    async setMetricsGracePeriod(req, ctx) {
      authorize.admin(ctx.identity, "set the metrics grace period");
      const model = requireModel(req.modelUuid);
      await mapped(() => setMetricsGracePeriod(sql, model, Number(req.gracePeriodSeconds) * 1000));
      return {};
    },

    async getMetricsManager(req, ctx) {
      authorize.admin(ctx.identity, "read the metrics manager");
      const state = await readMetricsManager(sql, requireModel(req.modelUuid));
      return {
        ...(state.lastSuccessfulSend === undefined
          ? {}
          : { lastSuccessfulSend: timestampFromMs(state.lastSuccessfulSend) }),
        consecutiveErrors: state.consecutiveErrors,
        gracePeriodSeconds: seconds(state.gracePeriodMs),
        status: mmStatus(state),
      };
    },

    async getMeterStatus(req, ctx) {
      const model = requireModel(req.modelUuid);
      const caller = callerOf(ctx.identity);
      const allowed = req.units.filter((u) => canAccessMeterStatus(caller, u));
      const read = allowed.length > 0 ? await readUnitStatuses(sql, model, allowed) : undefined;
      const mm = read ? mmStatus(read.metricsManager) : undefined;
      const own = new Map(read?.units.map((r) => [r.unit, r.status]));
      const results = req.units.map((unit): MessageInitShape<typeof MeterStatusResultSchema> => {
        if (!mm || !own.has(unit)) {
          return { unit, code: "", info: "", error: { kind: "Unauthorized", message: "permission denied" } };
        }
        const { status, error } = agentStatus(unit, mm, own.get(unit));
        return { unit, code: status.code, info: status.info, ...(error ? { error } : {}) };
      });
      return { results };
    },

    async *watchMeterStatus(req, ctx) {
      const model = requireModel(req.modelUuid);
      const unit = requireUnit(req.unit);
      try {
        authorizeMeterStatusAccess(callerOf(ctx.identity), unit);
      } catch (err) {
        throw mapError(err);
      }
      // The payload names the changed unit; "" is a change of every unit (the metrics-manager state).
      const mine = (changed: string) => changed === "" || changed === unit;
      let last: string | undefined;
      for await (const _ of notifier.changes(modelChannel(model), ctx.signal, mine)) {
        const read = await readUnitStatuses(sql, model, [unit]);
        const own = read.units[0]?.status;
        // Only a change of the unit's own status or of the metrics-manager state is an event.
        const fingerprint = JSON.stringify([own, read.metricsManager]);
        if (fingerprint === last) continue;
        last = fingerprint;
        yield { status: agentStatus(unit, mmStatus(read.metricsManager), own).status };
      }
    },

    async getWorkerState(req, ctx) {
      const model = requireModel(req.modelUuid);
      const unit = requireUnit(req.unit);
      authorizeWorkerState(ctx.identity, unit);
      return { state: await mapped(() => readWorkerState(sql, model, unit)) };
    },

    async setWorkerState(req, ctx) {
      const model = requireModel(req.modelUuid);
      const unit = requireUnit(req.unit);
      authorizeWorkerState(ctx.identity, unit);
      await mapped(() => writeWorkerState(sql, model, unit, req.state));
      return {};
    },
  };
}
