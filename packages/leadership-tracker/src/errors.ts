// Leadership errors seen by the unit agent, with Juju's kind names (spec §4.2).

/** Kinds of leadership errors the agent side raises or recognises. */
export type LeadershipErrorKind = "ErrClaimDenied" | "ErrBlockCancelled" | "ErrLeadershipChanged";

const messages: Record<LeadershipErrorKind, string> = {
  ErrClaimDenied: "leadership claim denied",
  ErrBlockCancelled: "waiting for leadership cancelled by client",
  ErrLeadershipChanged: "leadership changed",
};

/** A leadership error with a kind; `message` defaults to Juju's message. */
export class LeadershipError extends Error {
  override readonly name = "LeadershipError";
  constructor(
    readonly kind: LeadershipErrorKind,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(message ?? messages[kind], options);
  }
}

/** True when `err` carries `kind` (works for any error type with a `kind` field, such as ConcordError). */
export function isKind(err: unknown, kind: string): boolean {
  return typeof err === "object" && err !== null && (err as { kind?: unknown }).kind === kind;
}

/** The message of any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
