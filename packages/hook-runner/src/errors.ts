import type { HookErrorKind } from "./types";

/** Details a failed hook run carries, when there are any. */
export interface HookErrorDetails {
  hookName?: string;
  exitCode?: number | null;
  /** The signal that ended the hook process, e.g. `SIGTERM`. */
  signal?: string | null;
  stdout?: string;
  stderr?: string;
  cause?: unknown;
}

/** The one error type of this package; `kind` names what went wrong (Juju-style error kinds). */
export class HookError extends Error {
  override readonly name = "HookError";
  readonly kind: HookErrorKind;
  readonly hookName: string | undefined;
  readonly exitCode: number | null | undefined;
  readonly signal: string | null | undefined;
  readonly stdout: string | undefined;
  readonly stderr: string | undefined;

  constructor(kind: HookErrorKind, message: string, details: HookErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.hookName = details.hookName;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stdout = details.stdout;
    this.stderr = details.stderr;
  }
}

/** Whether `err` is a {@link HookError}, optionally of the given kind. */
export function isHookError(err: unknown, kind?: HookErrorKind): err is HookError {
  return err instanceof HookError && (kind === undefined || err.kind === kind);
}
