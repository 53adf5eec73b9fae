/** Kinds of {@link EventLogError}. */
export type EventLogErrorKind =
  /** The log cannot be reached (NATS down, connection lost); retry later. */
  | "EventLogUnavailable"
  /** The log was closed by its owner. */
  | "EventLogClosed"
  /** The requested messages are no longer in the log (retention or reset). */
  | "OutOfRange"
  /** A subject, sequence or option is malformed. */
  | "NotValid";

/** The event kit's error: a kind plus the underlying cause. */
export class EventLogError extends Error {
  override readonly name = "EventLogError";
  /** For `OutOfRange`: the oldest sequence the log still holds. */
  readonly firstSeq?: number;

  constructor(
    readonly kind: EventLogErrorKind,
    message: string,
    options: { cause?: unknown; firstSeq?: number } = {},
  ) {
    super(message, { cause: options.cause });
    if (options.firstSeq !== undefined) this.firstSeq = options.firstSeq;
  }
}

/** Whether `err` is an {@link EventLogError} of the given kind. */
export function isEventLogError(err: unknown, kind?: EventLogErrorKind): err is EventLogError {
  return err instanceof EventLogError && (kind === undefined || err.kind === kind);
}
