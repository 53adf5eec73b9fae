/** The gRPC status names the multiwatcher's errors map to (spec §9.1). */
export type StatusCode =
  | "CANCELLED"
  | "UNAVAILABLE"
  | "ABORTED"
  | "OUT_OF_RANGE"
  | "INVALID_ARGUMENT"
  | "FAILED_PRECONDITION";

/** Error kinds, named after Juju's where Juju has one. */
export type ErrorKind =
  /** The client stopped the watcher ("watcher was stopped"). */
  | "WatcherStopped"
  /** The multiwatcher is shutting down ("shared state watcher was stopped"). */
  | "MultiwatcherStopped"
  /** A non-resumable failure of the event source (spec §6.4). */
  | "BackingFailed"
  /** Removed-entity retention expired the watcher (spec §11.7). */
  | "WatcherExpired"
  /** A resume revision outside the retained history (spec §11.4). */
  | "RevisionOutOfRange"
  /** An invalid scope, revision or configuration. */
  | "NotValid"
  /** `next()` while another call is outstanding (spec §5.1). */
  | "CallInProgress";

const codes: Record<ErrorKind, StatusCode> = {
  WatcherStopped: "CANCELLED",
  MultiwatcherStopped: "UNAVAILABLE",
  BackingFailed: "UNAVAILABLE",
  WatcherExpired: "ABORTED",
  RevisionOutOfRange: "OUT_OF_RANGE",
  NotValid: "INVALID_ARGUMENT",
  CallInProgress: "FAILED_PRECONDITION",
};

/** The multiwatcher domain's one error type: a Juju-style kind plus the gRPC status it maps to. */
export class MultiwatcherError extends Error {
  override readonly name = "MultiwatcherError";
  /** The gRPC status name for this kind. */
  readonly code: StatusCode;
  /** For `RevisionOutOfRange`: the oldest resumable revision (over gRPC: `concord-oldest-revision`). */
  readonly oldestRevision: number | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options: { oldestRevision?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = codes[kind];
    this.oldestRevision = options.oldestRevision;
  }
}

/** "watcher was stopped": Juju's text, kept because clients match it. */
export const watcherStoppedMessage = "watcher was stopped";

/** "shared state watcher was stopped": Juju's text for a multiwatcher that is shutting down. */
export const multiwatcherStoppedMessage = "shared state watcher was stopped";

/** The error of every `next()` after `stop()` or after an error was delivered. */
export function watcherStopped(): MultiwatcherError {
  return new MultiwatcherError("WatcherStopped", watcherStoppedMessage);
}

/** The error of every `next()` once the multiwatcher is shutting down. */
export function multiwatcherStopped(): MultiwatcherError {
  return new MultiwatcherError("MultiwatcherStopped", multiwatcherStoppedMessage);
}

/** True for the errors that mean a stop (of the watcher or of the whole multiwatcher), not a failure. */
export function isStopped(err: unknown): boolean {
  return (
    err instanceof MultiwatcherError && (err.kind === "WatcherStopped" || err.kind === "MultiwatcherStopped")
  );
}
