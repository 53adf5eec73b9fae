// `concord-agent`: runs one unit's hooks against the controller until SIGINT / SIGTERM.

import { mkdir } from "node:fs/promises";
import { systemClock } from "@concord/clock";
import { createLogger } from "@concord/grpc";
import { MachineLock } from "@concord/hook-runner";
import { type AgentDeps, runAgent, socketPathFor } from "./agent";
import { AgentConfigError, loadAgentConfig, usage } from "./config";
import { AgentLeadership } from "./leadership";
import { startMeterStatus } from "./meter-status";
import { grpcRelationApi } from "./relation-api";
import { grpcLeadershipBackend, grpcMeterStatusClient } from "./service-clients";
import { servedServices, servesPackage } from "./services";

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  process.stdout.write(usage());
  process.exit(0);
}
let config: Awaited<ReturnType<typeof loadAgentConfig>>;
try {
  config = await loadAgentConfig(argv);
} catch (err) {
  if (!(err instanceof AgentConfigError)) throw err;
  process.stderr.write(`concord-agent: configuration error: ${err.message}\n${usage()}`);
  process.exit(2);
}

const logger = createLogger("concord-agent").child({ unit: config.unit });
const api = grpcRelationApi({
  address: config.controller,
  token: config.token,
  modelUuid: config.modelUuid,
  unit: config.unit,
});

// Leadership and meter status run only where the controller serves them.
let served = new Set<string>();
try {
  served = await servedServices(config.controller);
} catch (err) {
  logger.warn({ error: (err as Error).message }, "cannot list the controller's services");
}
const clientOptions = { address: config.controller, token: config.token, modelUuid: config.modelUuid };
const deps: AgentDeps = { api, logger, clock: systemClock };
const stops: (() => Promise<void> | void)[] = [];
if (servesPackage(served, "concord.leadership.v1")) {
  const backend = grpcLeadershipBackend(clientOptions);
  const leadership = new AgentLeadership({ backend, unitName: config.unit, clock: systemClock, logger });
  leadership.start();
  deps.leadership = leadership;
  stops.push(
    () => leadership.stop(),
    () => backend.close(),
  );
} else {
  logger.info({}, "controller does not serve concord.leadership.v1: no leadership hooks");
}
if (servesPackage(served, "concord.meterstatus.v1")) {
  await mkdir(config.dataDir, { recursive: true });
  const client = grpcMeterStatusClient(clientOptions);
  try {
    const meter = await startMeterStatus({
      client,
      unitName: config.unit,
      modelUuid: config.modelUuid,
      dataDir: config.dataDir,
      charmDir: config.charmDir,
      lock: new MachineLock({ dataDir: config.dataDir }),
      clock: systemClock,
      logger,
      socketPath: socketPathFor(config.dataDir),
    });
    deps.meterStatus = meter.status;
    stops.push(() => meter.stop());
  } catch (err) {
    logger.error({ error: (err as Error).message }, "cannot start the meter-status worker");
  }
  stops.push(() => client.close());
} else {
  logger.info({}, "controller does not serve concord.meterstatus.v1: no meter-status hooks");
}

const stop = new AbortController();
let signals = 0;
const onSignal = (sig: string) => {
  if (++signals > 1) process.exit(130);
  logger.info({ sig }, "stopping after the running hook");
  stop.abort();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

const outcome = await runAgent(config, deps, stop.signal);
for (const fn of stops) await fn();
api.close();
// A dead unit's agent exits 0 and is not started again (Juju's ErrTerminateAgent).
logger.info({ outcome }, outcome === "dead" ? "unit is dead: agent terminated" : "stopped");
