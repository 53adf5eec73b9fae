import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import { HookError } from "./errors";
import type { HookResult, RunHookOptions } from "./types";

/** OS variables a hook inherits from the agent unless `inheritEnv` says otherwise. */
export const DEFAULT_INHERITED_ENV: readonly string[] = ["PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TERM"];

// Hooks can be chatty; keep the tail end bounded so a runaway hook cannot exhaust the agent's memory.
const MAX_OUTPUT_BYTES = 1 << 20;

/**
 * Runs `<charmDir>/hooks/<hookName>` under the machine lock with a hook environment built from the
 * inherited OS variables, JUJU_CHARM_DIR / CHARM_DIR / JUJU_HOOK_NAME and `env` (which wins).
 * Resolves with `ran` (exit 0) or `skipped` (no such hook, or not executable, as Juju skips a missing hook);
 * rejects with a {@link HookError}: `HookFailed` (non-zero exit), `HookKilled`, `Timeout`, `Cancelled`
 * (lock wait aborted, the hook did not run), `LockFailed`, `HookStartFailed` or `NotValid`.
 */
export async function runHook(options: RunHookOptions): Promise<HookResult> {
  const { charmDir, hookName } = options;
  if (!charmDir) throw new HookError("NotValid", "missing charm dir not valid");
  if (!hookName || hookName.includes("/") || hookName === "." || hookName === "..") {
    throw new HookError("NotValid", `hook name ${JSON.stringify(hookName)} not valid`);
  }
  const lockSpec = options.lockSpec ?? { worker: "uniter", comment: hookName };
  const held = await options.lock.acquire({
    worker: lockSpec.worker,
    comment: lockSpec.comment ?? hookName,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    const hookPath = join(charmDir, "hooks", hookName);
    // Checked under the lock: charm upgrades swap the charm dir under the same lock.
    const skip = await skipReason(hookPath);
    if (skip) return { outcome: "skipped", hookName, reason: skip };
    return await execute(hookPath, options);
  } finally {
    await held.release();
  }
}

/** Builds the environment a hook process gets (exported for callers that log or inspect it). */
export function hookEnvironment(
  options: Pick<RunHookOptions, "charmDir" | "hookName" | "env" | "inheritEnv">,
) {
  const env: Record<string, string> = {};
  for (const name of options.inheritEnv ?? DEFAULT_INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  env.CHARM_DIR = options.charmDir;
  env.JUJU_CHARM_DIR = options.charmDir;
  env.JUJU_HOOK_NAME = options.hookName;
  return { ...env, ...options.env };
}

async function skipReason(hookPath: string): Promise<"missing" | "not-executable" | undefined> {
  try {
    if (!(await stat(hookPath)).isFile()) return "missing";
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "missing";
    throw new HookError("HookStartFailed", `cannot inspect hook ${hookPath}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    await access(hookPath, constants.X_OK);
    return undefined;
  } catch {
    return "not-executable";
  }
}

function execute(hookPath: string, options: RunHookOptions): Promise<HookResult> {
  const { hookName } = options;
  const started = performance.now();
  return new Promise<HookResult>((resolvePromise, rejectPromise) => {
    // Own process group so a timeout also reaches whatever the hook spawned.
    const child = spawn(hookPath, [], {
      cwd: options.charmDir,
      env: hookEnvironment(options),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const stdout = new OutputBuffer();
    const stderr = new OutputBuffer();
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));

    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timeout =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            killGroup(child.pid, "SIGTERM");
            killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), options.killGraceMs ?? 5_000);
          }, options.timeoutMs);
    const clearTimers = () => {
      if (timeout) clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
    };

    child.on("error", (err) => {
      clearTimers();
      rejectPromise(
        new HookError("HookStartFailed", `cannot start hook "${hookName}": ${err.message}`, {
          hookName,
          cause: err,
        }),
      );
    });
    child.on("close", (code, signal) => {
      clearTimers();
      const details = { hookName, exitCode: code, signal, stdout: stdout.text(), stderr: stderr.text() };
      if (timedOut) {
        rejectPromise(
          new HookError("Timeout", `hook "${hookName}" timed out after ${options.timeoutMs} ms`, details),
        );
      } else if (signal !== null) {
        rejectPromise(new HookError("HookKilled", `hook "${hookName}" was killed by ${signal}`, details));
      } else if (code !== 0) {
        rejectPromise(new HookError("HookFailed", `hook "${hookName}" failed: exit status ${code}`, details));
      } else {
        resolvePromise({
          outcome: "ran",
          hookName,
          exitCode: 0,
          stdout: details.stdout,
          stderr: details.stderr,
          durationMs: performance.now() - started,
        });
      }
    });
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Keeps at most MAX_OUTPUT_BYTES of a stream, dropping the oldest output first. */
class OutputBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > MAX_OUTPUT_BYTES && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
      this.truncated = true;
    }
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString("utf8");
    return this.truncated ? `[output truncated]\n${text}` : text;
  }
}
