/**
 * Error kinds, named after Juju's: `NotValid` for a hook refused by validation, a bad watcher event or a
 * corrupt state file; `Internal` for a file-system failure.
 */
export type RelationHooksErrorKind = "NotValid" | "Internal";

/** The one error type of this package; `kind` maps onto ConcordError later. */
export class RelationHooksError extends Error {
  override readonly name = "RelationHooksError";

  /** Builds an error of `kind`; `cause` is kept for diagnostics. */
  constructor(
    readonly kind: RelationHooksErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Prefixes `err`'s message with `context`, Go style (`context: message`), keeping its kind. */
export function wrapError(context: string, err: unknown): RelationHooksError {
  const kind = err instanceof RelationHooksError ? err.kind : "Internal";
  const message = err instanceof Error ? err.message : String(err);
  return new RelationHooksError(kind, `${context}: ${message}`, { cause: err });
}
