/** Reads Concord's configuration from the environment; every variable is documented in the README. */

/** A configuration value that is missing or malformed. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

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
