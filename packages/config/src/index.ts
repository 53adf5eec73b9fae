/** Reads Concord's configuration from the environment; every variable is documented in the README. */

/** A configuration value that is missing or malformed. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The environment variables Concord reads, with their meaning (printed by `--help` and in the README). */
export const ENV_DOC: Record<string, string> = {
  CONCORD_DATA:
    "data folder for embedded Postgres, the embedded event log and the admin token (default ./.concord)",
  CONCORD_ADDR: "gRPC listen address host:port (all-in-one default 127.0.0.1:17070)",
  CONCORD_METRICS_ADDR: "HTTP address for /metrics (default: gRPC port + 1 on the same host; 'off' disables)",
  CONCORD_TOKEN_SECRET:
    "secret that signs and verifies bearer tokens (default: generated once into the data folder)",
  CONCORD_SHUTDOWN_GRACE_MS:
    "how long in-flight calls may run after SIGTERM before they are cut (default 10000)",
  DATABASE_URL: "Postgres URL; unset = embedded Postgres in $CONCORD_DATA/postgres",
  NATS_URL: "NATS URL with JetStream; unset = the embedded event log in $CONCORD_DATA/events",
  CONCORD_EVENT_STREAM: "JetStream stream name (default CONCORD_EVENTS)",
  CONCORD_EVENT_NAMESPACE: "subject prefix token on JetStream for several Concords on one NATS server",
  LOG_LEVEL: "pino level: trace, debug, info, warn, error (default info)",
};

/** A string variable, or the default. */
export function env(name: string, fallback: string): string;
export function env(name: string): string | undefined;
export function env(name: string, fallback?: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === "" ? fallback : v;
}

/** An integer variable, or the default; a malformed value is a ConfigError. */
export function envInt(name: string, fallback: number): number {
  const v = env(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
}

/** Parses host:port; a malformed address is a ConfigError. */
export function parseAddress(name: string, value: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(value);
  if (!m?.[1]) throw new ConfigError(`${name} must be host:port, got ${JSON.stringify(value)}`);
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(`${name} has an invalid port: ${value}`);
  return { host: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}
