// Helpers shared by the agent's tests: charms made of shell scripts, a log to await, temp dirs, a logger,
// agent processes.
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, watch } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentLogger } from "../types";

const AGENT_BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/concord-agent.mjs");

/** Where and as whom a test's concord-agent process runs. */
export interface AgentProcessOptions {
  address: string;
  modelUuid: string;
  unit: string;
  token: string;
  charmDir: string;
  /** Holds `<unit>` (data dir), `<unit>.token` and `<unit>.agent.log` (stdout and stderr), `/` as `-`. */
  baseDir: string;
}

/** Starts a concord-agent process with short hook-retry and restart delays. */
export async function spawnAgent(options: AgentProcessOptions): Promise<ChildProcess> {
  const name = options.unit.replace("/", "-");
  const tokenFile = join(options.baseDir, `${name}.token`);
  await writeFile(tokenFile, options.token);
  const child = spawn(
    process.execPath,
    [
      AGENT_BIN,
      "--controller",
      options.address,
      "--model",
      options.modelUuid,
      "--unit",
      options.unit,
      "--token-file",
      tokenFile,
      "--charm-dir",
      options.charmDir,
      "--data-dir",
      join(options.baseDir, name),
      "--hook-retry-ms",
      "100",
      "--restart-delay-ms",
      "100",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LOG_LEVEL: "debug" } },
  );
  const out = createWriteStream(join(options.baseDir, `${name}.agent.log`), { flags: "a" });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return child;
}

/** A fresh temporary directory (short path: it holds unix sockets), removed by `cleanup`. */
export async function tempDir(prefix = "ca-"): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** The relation hook names of `endpoint`. */
export function relationHooks(endpoint: string): string[] {
  return ["created", "joined", "changed", "departed", "broken"].map((k) => `${endpoint}-relation-${k}`);
}

/**
 * Writes a charm whose hooks append one line to `logFile`: `<unit> <hook> remote=<unit> app=<app>
 * departing=<unit>` followed by whatever `extra[hook]` (shell) prints.
 */
export async function writeCharm(
  dir: string,
  logFile: string,
  hooks: string[],
  extra: Record<string, string> = {},
): Promise<void> {
  await mkdir(join(dir, "hooks"), { recursive: true });
  for (const hook of hooks) {
    const script = [
      "#!/bin/sh",
      "set -e",
      `extra=$(${extra[hook] ?? "true"})`,
      `echo "$JUJU_UNIT_NAME $JUJU_HOOK_NAME remote=\${JUJU_REMOTE_UNIT:-} app=\${JUJU_REMOTE_APP:-} departing=\${JUJU_DEPARTING_UNIT:-} id=\${JUJU_RELATION_ID:-} $extra" >> ${JSON.stringify(logFile)}`,
      "",
    ].join("\n");
    const path = join(dir, "hooks", hook);
    await writeFile(path, script);
    await chmod(path, 0o755);
  }
}

/** The log's lines, trimmed of trailing spaces; none when it does not exist yet. */
export async function logLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, "utf8"))
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.trimEnd());
  } catch {
    return [];
  }
}

/** Waits (watching the file, bounded by `timeoutMs`) until `predicate` holds for the log's lines. */
export async function waitForLog(
  file: string,
  predicate: (lines: string[]) => boolean,
  timeoutMs = 20_000,
): Promise<string[]> {
  await mkdir(join(file, ".."), { recursive: true });
  const lines = await logLines(file);
  if (predicate(lines)) return lines;
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err?: Error, result?: string[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve(result!);
    };
    const check = async () => {
      const now = await logLines(file);
      if (predicate(now)) finish(undefined, now);
    };
    // The directory is watched: the file may not exist yet.
    const watcher = watch(join(file, ".."), () => void check());
    const timer = setTimeout(async () => {
      finish(new Error(`timed out waiting for ${file}; it holds:\n${(await logLines(file)).join("\n")}`));
    }, timeoutMs);
    void check();
  });
}

/** Lines of `lines` that start with `prefix` (one unit's hooks). */
export function linesOf(lines: string[], prefix: string): string[] {
  return lines.filter((l) => l.startsWith(`${prefix} `));
}

/** A logger that keeps every entry and lets a test wait for one. */
export class MemoryLogger implements AgentLogger {
  readonly entries: { level: string; msg: string; obj: object }[] = [];
  readonly #waiters: {
    match: (e: { level: string; msg: string; obj: object }) => boolean;
    resolve: () => void;
  }[] = [];

  debug(obj: object, msg = ""): void {
    this.#add("debug", obj, msg);
  }
  info(obj: object, msg = ""): void {
    this.#add("info", obj, msg);
  }
  warn(obj: object, msg = ""): void {
    this.#add("warn", obj, msg);
  }
  error(obj: object, msg = ""): void {
    this.#add("error", obj, msg);
  }

  /** Resolves when an entry whose message contains `text` has been logged (now or later). */
  waitFor(text: string, count = 1): Promise<void> {
    const match = (e: { msg: string }) => e.msg.includes(text);
    if (this.entries.filter(match).length >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push({
        match: () => this.entries.filter(match).length >= count,
        resolve,
      });
    });
  }

  #add(level: string, obj: object, msg: string): void {
    const entry = { level, msg, obj };
    this.entries.push(entry);
    if (process.env.AGENT_TEST_LOG) console.log(level, msg, JSON.stringify(obj));
    for (const w of [...this.#waiters]) {
      if (w.match(entry)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }
}
