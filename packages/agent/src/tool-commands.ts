// The hook tools (Juju's jujuc commands) as the agent runs them for a hook's process: argument parsing,
// the call into the hook context, and Juju's output formats (smart, json, yaml).
import { stringify } from "yaml";
import { type HookContext, ToolError } from "./hook-context";

/** What a hook tool prints and its exit status. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The hook tools this agent serves. */
export const TOOL_NAMES = [
  "relation-get",
  "relation-set",
  "relation-ids",
  "relation-list",
  "is-leader",
  "leader-get",
  "leader-set",
  "juju-log",
] as const;

type Format = "smart" | "json" | "yaml";

interface Parsed {
  flags: Map<string, string | true>;
  positional: string[];
}

// Options that take a value; every other option is a switch.
const valueOptions: Record<string, string> = {
  "-r": "relation",
  "--relation": "relation",
  "--format": "format",
  "-l": "level",
  "--log-level": "level",
  "--file": "file",
};
const switchOptions: Record<string, string> = { "--app": "app", "--debug": "debug" };

function parse(args: readonly string[], allowed: readonly string[]): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const valueName = valueOptions[name];
    const switchName = switchOptions[name];
    const key = valueName ?? switchName;
    if (key === undefined || !allowed.includes(key))
      throw new ToolError(`option provided but not defined: ${name}`, 2);
    if (valueName) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new ToolError(`option needs an argument: ${name}`, 2);
      flags.set(key, value);
    } else {
      flags.set(key, true);
    }
  }
  return { flags, positional };
}

function formatOf(p: Parsed): Format {
  const f = p.flags.get("format") ?? "smart";
  if (f === "smart" || f === "json" || f === "yaml") return f;
  throw new ToolError(`invalid value "${String(f)}" for option --format: unknown format`, 2);
}

/** Juju's output formats: smart prints scalars bare, lists one per line and maps as YAML. */
function render(value: unknown, format: Format): string {
  if (format === "json") return `${JSON.stringify(value ?? null)}\n`;
  if (format === "yaml") return value === undefined || value === null ? "" : stringify(value);
  if (value === undefined || value === null) return "";
  if (typeof value === "boolean") return value ? "True\n" : "False\n";
  if (Array.isArray(value)) return value.length ? `${value.join("\n")}\n` : "";
  if (typeof value === "object") return Object.keys(value).length ? stringify(value) : "";
  return `${String(value)}\n`;
}

/** `db:3` or `3` → 3. */
function relationIdArg(text: string | true | undefined): number | undefined {
  if (text === undefined || text === true) return undefined;
  const m = /^(?:[a-z][a-z0-9-]*:)?(\d+)$/.exec(text);
  if (!m) throw new ToolError(`invalid value "${text}" for option -r: invalid relation id`, 2);
  return Number(m[1]);
}

function keyValues(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) throw new ToolError(`expected "key=value", got ${JSON.stringify(arg)}`, 2);
    out[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  return out;
}

type Command = (ctx: HookContext, args: readonly string[]) => Promise<string>;

const commands: Record<(typeof TOOL_NAMES)[number], Command> = {
  async "relation-get"(ctx, args) {
    const p = parse(args, ["relation", "format", "app"]);
    const rel = ctx.relation(relationIdArg(p.flags.get("relation")));
    if (p.positional.length > 2)
      throw new ToolError(`unrecognized args: ${JSON.stringify(p.positional.slice(2))}`, 2);
    const key = p.positional[0] === undefined || p.positional[0] === "-" ? undefined : p.positional[0];
    const app = p.flags.has("app");
    let target = p.positional[1];
    if (target === undefined) target = app ? ctx.remoteApplication || rel.remoteApplication : ctx.remoteUnit;
    if (!target) throw new ToolError("no unit id specified", 2);
    const settings = app
      ? await ctx.applicationSettings(rel.id, target)
      : await ctx.unitSettings(rel.id, target);
    return render(key === undefined ? settings : settings[key], formatOf(p));
  },

  async "relation-set"(ctx, args) {
    const p = parse(args, ["relation", "format", "app", "file"]);
    if (p.flags.has("file")) throw new ToolError("--file is not supported by this agent", 2);
    const rel = ctx.relation(relationIdArg(p.flags.get("relation")));
    ctx.setSettings(rel.id, keyValues(p.positional), p.flags.has("app"));
    return "";
  },

  async "relation-ids"(ctx, args) {
    const p = parse(args, ["format"]);
    const endpoint = p.positional[0] ?? (ctx.relationId !== undefined ? ctx.relation().endpoint : undefined);
    if (endpoint === undefined) throw new ToolError("no endpoint name specified", 2);
    const ids = ctx
      .relations()
      .filter((r) => r.endpoint === endpoint)
      .map((r) => `${r.endpoint}:${r.id}`);
    return render(ids, formatOf(p));
  },

  async "relation-list"(ctx, args) {
    const p = parse(args, ["relation", "format", "app"]);
    const rel = ctx.relation(relationIdArg(p.flags.get("relation")));
    return render(p.flags.has("app") ? rel.remoteApplication : rel.members, formatOf(p));
  },

  async "is-leader"(ctx, args) {
    const p = parse(args, ["format"]);
    if (!ctx.leadership) throw new ToolError("leadership status unknown: leadership is not available");
    let leader: boolean;
    try {
      leader = await ctx.leadership.isLeader();
    } catch (err) {
      throw new ToolError(`leadership status unknown: ${(err as Error).message}`);
    }
    return render(leader, formatOf(p));
  },

  async "leader-get"(ctx, args) {
    const p = parse(args, ["format"]);
    if (!ctx.leadership) throw new ToolError("cannot read leadership settings: leadership is not available");
    const settings = await ctx.leadership.leaderSettings();
    const key = p.positional[0] === undefined || p.positional[0] === "-" ? undefined : p.positional[0];
    return render(key === undefined ? settings : settings[key], formatOf(p));
  },

  async "leader-set"(ctx, args) {
    const p = parse(args, []);
    if (!ctx.leadership) throw new ToolError("cannot write leadership settings: leadership is not available");
    await ctx.leadership.writeLeaderSettings(keyValues(p.positional));
    return "";
  },

  async "juju-log"(ctx, args) {
    const p = parse(args, ["level", "debug", "relation", "format"]);
    const level = p.flags.has("debug") ? "DEBUG" : String(p.flags.get("level") ?? "INFO");
    if (p.positional.length === 0) throw new ToolError("no message specified", 2);
    ctx.log(level, p.positional.join(" "));
    return "";
  },
};

/** Runs hook tool `name` with `args` in `ctx`; errors become `ERROR <message>` on stderr. */
export async function runTool(ctx: HookContext, name: string, args: readonly string[]): Promise<ToolResult> {
  const command = commands[name as (typeof TOOL_NAMES)[number]];
  if (!command) return { code: 2, stdout: "", stderr: `ERROR unknown command: ${name}\n` };
  try {
    return { code: 0, stdout: await command(ctx, args), stderr: "" };
  } catch (err) {
    const code = err instanceof ToolError ? err.exitCode : 1;
    return { code, stdout: "", stderr: `ERROR ${(err as Error).message}\n` };
  }
}
