import {
  type AgentSocket,
  type HookLock,
  isHookError,
  newContextId,
  runHook,
  unitHookEnv,
} from "@concord/hook-runner";
import type { HookRunner, Logger } from "./types";

/** The hook the meter-status worker runs. */
export const METER_STATUS_CHANGED = "meter-status-changed";

/** Configuration of {@link newHookRunner}. */
export interface HookRunnerConfig {
  /** Unit name, `app/0`. */
  unitName: string;
  modelUUID: string;
  modelName?: string;
  charmDir: string;
  /** The agent's machine lock. */
  lock: HookLock;
  logger: Logger;
  /** The agent's hook-command socket, exported to the hook. */
  agentSocket?: AgentSocket;
  /** Kills a hook running longer; none by default. */
  timeoutMs?: number;
}

/**
 * The meter-status worker's hook runner (spec §13): runs `meter-status-changed` under the machine lock
 * (worker `meterstatus`) with JUJU_METER_STATUS / JUJU_METER_INFO and the unit's usual variables.
 * It never rejects: a missing hook is logged at info, a killed hook as a warning, other failures (including
 * not getting the lock, in which case the hook does not run) as errors.
 */
export function newHookRunner(config: HookRunnerConfig): HookRunner {
  return {
    async run(code, info, signal) {
      const env = {
        ...unitHookEnv({
          unitName: config.unitName,
          modelUUID: config.modelUUID,
          contextId: newContextId(config.unitName, "meter-status"),
          ...(config.modelName !== undefined ? { modelName: config.modelName } : {}),
          ...(config.agentSocket ? { agentSocket: config.agentSocket } : {}),
        }),
        JUJU_METER_STATUS: code,
        JUJU_METER_INFO: info,
      };
      try {
        const result = await runHook({
          charmDir: config.charmDir,
          hookName: METER_STATUS_CHANGED,
          env,
          lock: config.lock,
          lockSpec: { worker: "meterstatus", comment: METER_STATUS_CHANGED },
          signal,
          ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
        });
        if (result.outcome === "skipped") {
          config.logger.info(`skipped "${METER_STATUS_CHANGED}" hook (${result.reason})`);
        } else {
          config.logger.debug(`ran "${METER_STATUS_CHANGED}" hook with ${code} ${JSON.stringify(info)}`);
        }
      } catch (err) {
        logHookError(config.logger, err);
      }
    },
  };
}

function logHookError(logger: Logger, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  if (isHookError(err, "Cancelled") || isHookError(err, "LockFailed")) {
    logger.error(`hook "${METER_STATUS_CHANGED}" not run: could not acquire machine lock: ${message}`);
  } else if (isHookError(err, "HookKilled") || isHookError(err, "Timeout")) {
    logger.warn(`hook "${METER_STATUS_CHANGED}" was terminated: ${message}`);
  } else {
    logger.error(`error running "${METER_STATUS_CHANGED}" hook: ${message}`);
  }
}
