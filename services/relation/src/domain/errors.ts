// Error kinds of the relation domain, named as Juju names them (spec section 15).

/**
 * Every kind the relation service reports. Errors Juju gives no kind ("plain" errors) are reported as NotValid
 * (bad input) or NotSupported (a refused operation) with a clear message.
 */
export type RelationErrorKind =
  | "AmbiguousRelation"
  | "ApplicationNotFoundForRelation"
  | "CompatibleEndpointsNotFound"
  | "EndpointQuotaLimitExceeded"
  | "CannotEnterScopeNotAlive"
  | "CannotEnterScopeSubordinateNotAlive"
  | "PotentialRelationUnitNotValid"
  | "RelationEndpointNotFound"
  | "RelationAlreadyExists"
  | "RelationNotAlive"
  | "RelationNotFound"
  | "RelationUUIDNotValid"
  | "RelationKeyNotValid"
  | "RelationUnitNotFound"
  | "UnitDead"
  | "UnitPrincipalNotFound"
  | "UnitNotInRelation"
  | "BothEndpointsRemote"
  | "ApplicationEndpointNotFound"
  | "ApplicationNotAlive"
  | "ApplicationNotFound"
  | "ApplicationAlreadyExists"
  | "UnitNotFound"
  | "UnitRemoved"
  | "UnitNotAlive"
  | "ApplicationUUIDNotValid"
  | "UnitUUIDNotValid"
  | "UnitMachineNotAssigned"
  | "NotValid"
  | "NotSupported"
  | "QuotaLimitExceeded"
  | "InvalidUnitName"
  | "NotHeld"
  | "RelationStatusTransitionNotValid"
  | "RelationIsCrossModel"
  | "UnitsStillInScope"
  | "ModelNotFound"
  | "ModelAlreadyExists"
  | "UnitHasSubordinates";

/**
 * An error of the relation domain. `kinds` lists every kind when Juju joins several into one error
 * (GetRelationEndpointUUID with both the application and the relation missing); `kind` is the first.
 */
export class RelationError extends Error {
  override readonly name = "RelationError";
  readonly kinds: RelationErrorKind[];
  constructor(
    readonly kind: RelationErrorKind,
    message: string,
    options?: { cause?: unknown; also?: RelationErrorKind[] },
  ) {
    super(message, options);
    this.kinds = [kind, ...(options?.also ?? [])];
  }

  /** Whether the error is (or includes) one of the kinds. */
  is(...kinds: RelationErrorKind[]): boolean {
    return this.kinds.some((k) => kinds.includes(k));
  }

  /** The same kinds with a context prefix, as Go's `errors.Annotatef` would read. */
  wrap(prefix: string): RelationError {
    const [, ...also] = this.kinds;
    return new RelationError(this.kind, `${prefix}: ${this.message}`, { cause: this, also });
  }
}

/** Shorthand for a {@link RelationError}. */
export function fail(kind: RelationErrorKind, message: string): RelationError {
  return new RelationError(kind, message);
}

/** Whether a value is a {@link RelationError} of one of the kinds (any kind when none are given). */
export function isRelationError(err: unknown, ...kinds: RelationErrorKind[]): err is RelationError {
  return err instanceof RelationError && (kinds.length === 0 || err.is(...kinds));
}
