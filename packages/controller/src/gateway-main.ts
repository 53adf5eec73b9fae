// `concord gateway`: one address for a stack of single-service processes (the Kubernetes front door too).
// Backends: CONCORD_RELATION_ADDR, CONCORD_LEADERSHIP_ADDR, CONCORD_METERSTATUS_ADDR, CONCORD_MULTIWATCHER_ADDR.
import { ConfigError, env, parseAddress } from "@concord/config";
import { ConcordServer, createLogger, Metrics, TokenAuthority } from "@concord/grpc";
import { stopWithParent, tokenSecret } from "@concord/runtime";
import { addRoutes, SERVICE_CONTRACTS } from "./gateway";

const logger = createLogger("gateway");
try {
  const addresses = Object.fromEntries(
    SERVICE_CONTRACTS.map((c) => {
      const value = env(c.addressVar);
      if (!value)
        throw new ConfigError(`${c.addressVar} is not set: the gateway needs every service's address`);
      parseAddress(c.addressVar, value);
      return [c.service, value];
    }),
  );
  const metrics = new Metrics();
  const server = new ConcordServer({
    name: "gateway",
    logger,
    metrics,
    tokens: new TokenAuthority(await tokenSecret()),
  });
  addRoutes(server, addresses);
  const { host, port } = parseAddress("CONCORD_ADDR", env("CONCORD_ADDR", "0.0.0.0:17070"));
  const bound = await server.listen(`${host}:${port}`);
  const metricsAddr = env("CONCORD_METRICS_ADDR", `${host}:${bound + 1}`);
  const m = metricsAddr === "off" ? undefined : parseAddress("CONCORD_METRICS_ADDR", metricsAddr);
  const http = m ? await metrics.serve(m.host, m.port) : undefined;
  logger.info({ address: `${host}:${bound}`, backends: addresses }, "gateway serving");
  const stop = async () => {
    await server.shutdown();
    await http?.close();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  stopWithParent(() => void stop());
} catch (err) {
  console.error(
    `gateway: ${err instanceof ConfigError ? "configuration error: " : ""}${(err as Error).message}`,
  );
  process.exit(2);
}
