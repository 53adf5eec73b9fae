import type { ParseArgsConfig } from "node:util";
import type { Session } from "./session";

/** Where a command reads its environment and writes its output; tests pass their own. */
export interface Io {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted when the user interrupts (Ctrl-C): long-running commands end cleanly. */
  signal: AbortSignal;
}

/** A writable text stream; `isTTY` as on a terminal's stream. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Output formats of the commands that print data. */
export type Format = "tabular" | "json" | "yaml";

/** Flags every command accepts. */
export interface GlobalFlags {
  controller?: string;
  token?: string;
  model?: string;
  format?: string;
}

/** What a command gets when it runs. */
export interface CommandContext {
  io: Io;
  /** The command's positional arguments. */
  args: string[];
  /** The command's parsed flags (global ones included). */
  flags: Record<string, string | boolean | undefined>;
  /** Controller connection, resolved from flags, environment and the data folder. */
  session: Session;
  /** The chosen output format (tabular unless --format says otherwise). */
  format: Format;
}

/** One `concord` command. */
export interface Command {
  name: string;
  /** One line for `concord help`. */
  summary: string;
  /** The synopsis after `concord `, e.g. `deploy <application> [--endpoints <metadata.yaml>]`. */
  usage: string;
  /** Paragraphs for `concord <command> --help`. */
  description: string;
  /** The command's own flags (the global ones are added). */
  options?: NonNullable<ParseArgsConfig["options"]>;
  /** Whether the command accepts --format. */
  formats?: boolean;
  /** Positional arguments: the fewest and the most (Infinity = any). */
  args: [min: number, max: number];
  /** Runs the command; the resolved promise is the exit code (0 unless said otherwise). */
  run(ctx: CommandContext): Promise<number | undefined>;
}
