/** Error kinds of the meter-status worker, named after Juju's. */
export type MeterStatusWorkerErrorKind = "NotValid" | "NotSupported" | "WatcherStopped" | "StateWriteFailed";

/** The worker's error type; `kind` says what went wrong. */
export class MeterStatusWorkerError extends Error {
  override readonly name = "MeterStatusWorkerError";
  readonly kind: MeterStatusWorkerErrorKind;

  constructor(kind: MeterStatusWorkerErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
  }
}

/** Juju's `errors.NotValidf(what)`: message `<what> not valid`. */
export function notValid(what: string): MeterStatusWorkerError {
  return new MeterStatusWorkerError("NotValid", `${what} not valid`);
}

/** Whether `err` is a {@link MeterStatusWorkerError}, optionally of the given kind. */
export function isMeterStatusWorkerError(
  err: unknown,
  kind?: MeterStatusWorkerErrorKind,
): err is MeterStatusWorkerError {
  return err instanceof MeterStatusWorkerError && (kind === undefined || err.kind === kind);
}
