/** Error kinds of the meterstatus domain, named after Juju's; see {@link MeterStatusError}. */
export type MeterStatusErrorKind = "NotValid" | "NotFound" | "Unauthorized" | "UnitNotAlive";

/** The domain's error type; maps to ConcordError by kind (NotValid → INVALID_ARGUMENT, NotFound → NOT_FOUND, Unauthorized → PERMISSION_DENIED). */
export class MeterStatusError extends Error {
  override readonly name = "MeterStatusError";
  readonly kind: MeterStatusErrorKind;

  constructor(kind: MeterStatusErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Whether `err` is a {@link MeterStatusError}, optionally of the given kind. */
export function isMeterStatusError(err: unknown, kind?: MeterStatusErrorKind): err is MeterStatusError {
  return err instanceof MeterStatusError && (kind === undefined || err.kind === kind);
}
