// concord-agent's configuration: flags first, then environment variables, then defaults. Validated at start-up.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";

/** A configuration value that is missing or malformed. */
export class AgentConfigError extends Error {
  override readonly name = "AgentConfigError";
}

/** The agent's validated configuration. */
export interface AgentConfig {
  /** The controller's gRPC address, `host:port`. */
  controller: string;
  modelUuid: string;
  /** The unit, `wordpress/0`. */
  unit: string;
  token: string;
  /** The charm directory (`hooks/<hook-name>` executables). */
  charmDir: string;
  /** State dirs, machine lock, meter-status YAML, hook tools and their socket. */
  dataDir: string;
  /** First delay before a failed hook runs again. */
  hookRetryMs: number;
  /** Longest delay between two runs of a failed hook. */
  hookRetryMaxMs: number;
  /** Delay before a failed uniter starts again (lost connection, watcher error). */
  restartDelayMs: number;
}

/** Flags with their environment variable and meaning (printed by --help). */
export const FLAGS: Record<string, { env: string; doc: string }> = {
  controller: {
    env: "CONCORD_CONTROLLER",
    doc: "controller gRPC address host:port (default 127.0.0.1:17070)",
  },
  model: { env: "CONCORD_MODEL", doc: "the model's UUID (required)" },
  unit: { env: "CONCORD_UNIT", doc: "the unit this agent runs, e.g. wordpress/0 (required)" },
  token: { env: "CONCORD_TOKEN", doc: "the unit's bearer token" },
  "token-file": { env: "CONCORD_TOKEN_FILE", doc: "file holding the unit's bearer token" },
  "charm-dir": {
    env: "CONCORD_CHARM_DIR",
    doc: "the charm directory with hooks/<hook-name> executables (required)",
  },
  "data-dir": { env: "CONCORD_AGENT_DATA", doc: "the agent's data directory (required)" },
  "hook-retry-ms": { env: "CONCORD_HOOK_RETRY_MS", doc: "first retry delay of a failed hook (default 5000)" },
  "hook-retry-max-ms": {
    env: "CONCORD_HOOK_RETRY_MAX_MS",
    doc: "longest retry delay of a failed hook (default 300000)",
  },
  "restart-delay-ms": {
    env: "CONCORD_AGENT_RESTART_MS",
    doc: "delay before the uniter restarts after an error (default 3000)",
  },
};

/** Parses `--name value` / `--name=value` flags; unknown flags are an error. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new AgentConfigError(`unexpected argument ${JSON.stringify(arg)}`);
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!(name in FLAGS)) throw new AgentConfigError(`unknown flag --${name}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new AgentConfigError(`flag --${name} needs a value`);
    out.set(name, value);
  }
  return out;
}

/** Reads the configuration from `argv` (without node and script) and `env`. */
export async function loadAgentConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentConfig> {
  const flags = parseFlags(argv);
  const get = (name: string): string | undefined => {
    const v = flags.get(name) ?? env[FLAGS[name]!.env];
    return v === "" ? undefined : v;
  };
  const required = (name: string): string => {
    const v = get(name);
    if (v === undefined) throw new AgentConfigError(`--${name} (or ${FLAGS[name]!.env}) is required`);
    return v;
  };
  const int = (name: string, fallback: number): number => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new AgentConfigError(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return n;
  };
  const unit = required("unit");
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*\/(0|[1-9][0-9]*)$/.test(unit))
    throw new AgentConfigError(`--unit must be a unit name like wordpress/0, got ${JSON.stringify(unit)}`);
  const controller = get("controller") ?? "127.0.0.1:17070";
  if (!/^.+:\d+$/.test(controller))
    throw new AgentConfigError(`--controller must be host:port, got ${JSON.stringify(controller)}`);
  let token = get("token");
  const tokenFile = get("token-file");
  if (token === undefined && tokenFile !== undefined) {
    try {
      token = (await readFile(tokenFile, "utf8")).trim();
    } catch (err) {
      throw new AgentConfigError(`cannot read --token-file: ${(err as Error).message}`);
    }
  }
  if (!token)
    throw new AgentConfigError("--token or --token-file (or CONCORD_TOKEN / CONCORD_TOKEN_FILE) is required");
  return {
    controller,
    modelUuid: required("model"),
    unit,
    token,
    charmDir: resolve(required("charm-dir")),
    dataDir: resolve(required("data-dir")),
    hookRetryMs: int("hook-retry-ms", 5_000),
    hookRetryMaxMs: int("hook-retry-max-ms", 300_000),
    restartDelayMs: int("restart-delay-ms", 3_000),
  };
}

/** The --help text. */
export function usage(): string {
  const lines = Object.entries(FLAGS).map(
    ([name, f]) => `  --${name.padEnd(18)} ${f.env.padEnd(26)} ${f.doc}`,
  );
  return `usage: concord-agent --unit <app/N> --model <uuid> --charm-dir <dir> --data-dir <dir> --token-file <file>\n${lines.join("\n")}\n`;
}
