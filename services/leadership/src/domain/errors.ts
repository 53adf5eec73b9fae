// Lease-level errors (manager and store, spec §4.1) and leadership-level errors (API and agent, §4.2).
// Both carry Juju's kind names so the gRPC layer can map them to ConcordError without parsing messages.

/** Kinds of lease-level errors. */
export type LeaseErrorKind =
  | "ErrClaimDenied"
  | "ErrNotHeld"
  | "ErrWaitCancelled"
  | "ErrInvalid"
  | "ErrHeld"
  | "ErrTimeout"
  | "ErrAborted"
  | "ErrStopped"
  | "NotValid";

const leaseMessages: Record<LeaseErrorKind, string> = {
  ErrClaimDenied: "lease claim denied",
  ErrNotHeld: "lease not held",
  ErrWaitCancelled: "waiting for lease cancelled by client",
  ErrInvalid: "invalid lease operation",
  ErrHeld: "lease already held",
  ErrTimeout: "lease operation timed out",
  ErrAborted: "lease operation aborted",
  ErrStopped: "lease manager stopped",
  NotValid: "not valid",
};

/** An error of the lease manager or store; `message` defaults to Juju's message for the kind. */
export class LeaseError extends Error {
  override readonly name = "LeaseError";
  constructor(
    readonly kind: LeaseErrorKind,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? leaseMessages[kind], options);
  }
}

/** Kinds of leadership-level errors. */
export type LeadershipErrorKind =
  | "ErrClaimDenied"
  | "ErrClaimNotHeld"
  | "NotLeaderError"
  | "ErrBlockCancelled"
  | "ErrLeadershipChanged"
  | "InvalidDuration"
  | "Unauthorized";

const leadershipMessages: Record<Exclude<LeadershipErrorKind, "NotLeaderError">, string> = {
  ErrClaimDenied: "leadership claim denied",
  ErrClaimNotHeld: "leadership lease not held",
  ErrBlockCancelled: "waiting for leadership cancelled by client",
  ErrLeadershipChanged: "leadership changed",
  InvalidDuration: "invalid duration",
  Unauthorized: "permission denied",
};

/** An error of the leadership API; NotLeaderError's message names the unit and application. */
export class LeadershipError extends Error {
  override readonly name = "LeadershipError";
  constructor(
    readonly kind: LeadershipErrorKind,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? (kind === "NotLeaderError" ? "not leader" : leadershipMessages[kind]), options);
  }
}

/** `"<unit>" is not leader of "<app>"`, the error of a failed leadership check. */
export function notLeaderError(application: string, unit: string, cause?: unknown): LeadershipError {
  return new LeadershipError(
    "NotLeaderError",
    `${JSON.stringify(unit)} is not leader of ${JSON.stringify(application)}`,
    {
      cause,
    },
  );
}

/** The kind of any error carrying one (LeaseError, LeadershipError, ConcordError), else undefined. */
export function errorKind(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "kind" in err) {
    const kind = (err as { kind: unknown }).kind;
    return typeof kind === "string" ? kind : undefined;
  }
  return undefined;
}

/** True when `err` carries `kind`. */
export function isKind(err: unknown, kind: string): boolean {
  return errorKind(err) === kind;
}

/** True for a failed check, at either level: lease ErrNotHeld or leadership NotLeaderError. */
export function isNotHeld(err: unknown): boolean {
  return isKind(err, "ErrNotHeld") || isKind(err, "NotLeaderError");
}

/** The leadership operation an error came from; it decides how lease ErrNotHeld is renamed. */
export type LeadershipOperation = "claim" | "revoke" | "check" | "wait" | "other";

/**
 * Renames a lease error to its leadership error (spec §4.2). Kinds with no leadership counterpart
 * (ErrStopped, ErrTimeout, NotValid, ...) pass through unchanged.
 */
export function toLeadershipError(
  err: unknown,
  op: LeadershipOperation,
  application: string,
  unit: string,
): unknown {
  switch (errorKind(err)) {
    case "ErrClaimDenied":
      return err instanceof LeadershipError
        ? err
        : new LeadershipError("ErrClaimDenied", undefined, { cause: err });
    case "ErrNotHeld":
      if (op === "revoke") return new LeadershipError("ErrClaimNotHeld", undefined, { cause: err });
      if (op === "check") return notLeaderError(application, unit, err);
      return err;
    case "ErrWaitCancelled":
      return new LeadershipError("ErrBlockCancelled", undefined, { cause: err });
    default:
      return err;
  }
}

/** Recommended gRPC status (by name) for each error kind that reaches a client (spec §4.3). */
export const grpcStatusByKind: Readonly<Record<string, string>> = {
  NotValid: "INVALID_ARGUMENT",
  InvalidDuration: "INVALID_ARGUMENT",
  Unauthorized: "PERMISSION_DENIED",
  ErrClaimDenied: "FAILED_PRECONDITION",
  ErrClaimNotHeld: "FAILED_PRECONDITION",
  NotLeaderError: "FAILED_PRECONDITION",
  ErrBlockCancelled: "CANCELLED",
  ErrLeadershipChanged: "ABORTED",
  ErrStopped: "UNAVAILABLE",
  ErrTimeout: "UNAVAILABLE",
};
