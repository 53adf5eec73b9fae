import { type ParseArgsConfig, parseArgs } from "node:util";
import { COMMANDS } from "./commands";
import { CliError, describeError, ExitCode, usageError } from "./errors";
import { Session } from "./session";
import type { Command, Format, Io } from "./types";

/** The version `concord --version` prints. */
export const VERSION = "0.1.0";

const GLOBAL_OPTIONS = {
  controller: { type: "string" },
  token: { type: "string" },
  model: { type: "string", short: "m" },
  help: { type: "boolean", short: "h" },
} satisfies NonNullable<ParseArgsConfig["options"]>;

const GLOBAL_HELP = `Global flags:
  --controller <host:port>  controller address (CONCORD_CONTROLLER; default 127.0.0.1:17070)
  --token <token>           bearer token (CONCORD_TOKEN; default $CONCORD_DATA/admin.token)
  -m, --model <model>       model name or UUID (CONCORD_MODEL; default the current model)
  -h, --help                this help`;

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `concord drives a Concord controller the way juju drives Juju.

Usage: concord <command> [arguments] [flags]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n")}
  ${"help".padEnd(width)}  Show help for a command

${GLOBAL_HELP}

The data folder is CONCORD_DATA (default ./.concord), where \`npm start\` keeps its admin token.
Exit codes: 0 ok, 1 refused or failed by the controller, 2 usage, 3 cannot connect or not allowed,
4 service not available on this controller.
Run \`concord <command> --help\` for a command's flags.
`;
}

function commandHelp(c: Command): string {
  return `Usage: concord ${c.usage}

${c.summary}.

${wrap(c.description, 100)}

${GLOBAL_HELP}${c.formats ? "\n  --format <f>              tabular (default), json or yaml" : ""}
`;
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join("\n");
}

function closest(name: string): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const c of COMMANDS) {
    const d = distance(name, c.name);
    if (d <= 3 && (!best || d < best.d)) best = { name: c.name, d };
  }
  return best?.name;
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** Runs one `concord` invocation and resolves to its exit code; all output goes through `io`. */
export async function run(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(mainHelp());
    return ExitCode.Usage;
  }
  const helpFlag = (a: string | undefined) => a === "--help" || a === "-h";
  if (helpFlag(name) || (name === "help" && (rest.length === 0 || helpFlag(rest[0])))) {
    io.stdout.write(mainHelp());
    return ExitCode.Ok;
  }
  if (name === "--version") {
    io.stdout.write(`concord ${VERSION}\n`);
    return ExitCode.Ok;
  }
  let session: Session | undefined;
  try {
    const wanted = name === "help" ? rest[0]! : name;
    const command = COMMANDS.find((c) => c.name === wanted);
    if (!command) {
      const near = closest(wanted);
      throw usageError(
        `unknown command "${wanted}"`,
        near
          ? `did you mean \`concord ${near}\`? \`concord help\` lists the commands`
          : "`concord help` lists the commands",
      );
    }
    if (name === "help") {
      io.stdout.write(commandHelp(command));
      return ExitCode.Ok;
    }
    const { values, positionals } = parseArgs({
      args: rest,
      options: {
        ...GLOBAL_OPTIONS,
        ...(command.formats ? { format: { type: "string" } } : {}),
        ...command.options,
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      io.stdout.write(commandHelp(command));
      return ExitCode.Ok;
    }
    const [min, max] = command.args;
    if (positionals.length < min || positionals.length > max) {
      throw usageError(
        positionals.length < min ? "missing arguments" : `unexpected argument "${positionals[max]}"`,
        `usage: concord ${command.usage}`,
      );
    }
    const format = (values.format ?? "tabular") as Format;
    if (!["tabular", "json", "yaml"].includes(format))
      throw usageError(`--format must be tabular, json or yaml, not "${format}"`);
    const flags = values as Record<string, string | boolean | undefined>;
    session = new Session(
      { controller: flags.controller as string, token: flags.token as string, model: flags.model as string },
      io.env,
      io.cwd,
    );
    return (await command.run({ io, args: positionals, flags, session, format })) ?? ExitCode.Ok;
  } catch (err) {
    const d = describeError(err, session?.address);
    io.stderr.write(`ERROR ${d.message}\n`);
    if (d.hint) io.stderr.write(`${d.hint}\n`);
    if (io.env.CONCORD_DEBUG === "1" && !(err instanceof CliError))
      io.stderr.write(`${(err as Error)?.stack}\n`);
    return d.exitCode;
  } finally {
    session?.close();
  }
}
