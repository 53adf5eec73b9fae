import { Code, ConcordError } from "@concord/grpc";

/** The exit codes of `concord` (documented in the package README). */
export const ExitCode = {
  /** The command did what it was asked. */
  Ok: 0,
  /** The controller refused or failed the operation (the message names Juju's kind). */
  Failed: 1,
  /** The command line or an input file is wrong; nothing was sent. */
  Usage: 2,
  /** The controller cannot be reached, or it does not accept the credentials. */
  Connection: 3,
  /** The controller does not run the service the command needs. */
  Unavailable: 4,
} as const;

/** An exit code of `concord`. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the CLI itself detects: a kind named like Juju's, what to do about it, and the exit code. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly kind: string,
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failed,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A command-line mistake (exit code 2). */
export function usageError(message: string, hint?: string): CliError {
  return new CliError("Usage", message, ExitCode.Usage, hint);
}

/** What the user sees of a failure: one message, an optional hint, and the exit code. */
export interface Described {
  message: string;
  hint?: string;
  exitCode: ExitCode;
}

const NOT_RUNNING =
  "is the controller running? Start it with `npm start`, or point --controller / CONCORD_CONTROLLER at it";
const STATUS = "`concord status` shows what the model holds";

// Hints for the kinds a person meets at the terminal; other kinds fall back to a hint by gRPC code.
const KIND_HINTS: Record<string, string> = {
  ModelNotFound: "`concord models` lists the models; `concord add-model <name>` creates one",
  ModelAlreadyExists: "choose another name; `concord models` lists the models",
  ApplicationNotFound: STATUS,
  ApplicationNotFoundForRelation: STATUS,
  ApplicationAlreadyExists: "choose another application name; `concord status` lists the deployed ones",
  ApplicationNotAlive: "the application is being removed; deploy it again under another name",
  UnitNotFound: STATUS,
  UnitNotAlive: "the unit is being removed",
  RelationNotFound: "`concord relations` lists the model's relations",
  RelationAlreadyExists: "`concord relations` lists the model's relations",
  RelationEndpointNotFound:
    "an application's endpoints are the relation sections of the metadata.yaml it was deployed with",
  CompatibleEndpointsNotFound:
    "two endpoints relate when one provides and the other requires the same interface",
  AmbiguousRelation: "name the endpoints: `concord integrate <app>:<endpoint> <app>:<endpoint>`",
  EndpointQuotaLimitExceeded: "the endpoint's `limit` in metadata.yaml caps its relations",
  UnitsStillInScope: "the unit leaves once its agent has left every relation scope",
  Unauthenticated:
    "use the admin.token of the controller's data folder (--token, CONCORD_TOKEN or CONCORD_DATA), " +
    "or issue one with `concord token issue admin`",
  PermissionDenied: "this needs an admin token (`concord token issue admin`)",
};

/** Turns anything a command threw into what the user is told; never a stack trace. */
export function describeError(err: unknown, address?: string): Described {
  if (err instanceof CliError) return { message: err.message, hint: err.hint, exitCode: err.exitCode };
  if (isParseArgsError(err)) return { message: (err as Error).message, exitCode: ExitCode.Usage };
  if (!(err instanceof ConcordError)) {
    return {
      message: `concord failed: ${(err as Error)?.message ?? String(err)}`,
      hint: "this is a bug in the concord command; CONCORD_DEBUG=1 prints the stack",
      exitCode: ExitCode.Failed,
    };
  }
  const e = err;
  const kinded = e.kind && e.kind !== "Unknown" && e.kind !== "Internal" ? ` (${e.kind})` : "";
  const hint = KIND_HINTS[e.kind];
  switch (e.code) {
    case Code.UNAVAILABLE:
    case Code.DEADLINE_EXCEEDED:
      return {
        message: `cannot reach the controller${address ? ` at ${address}` : ""}: ${connectionFailure(e.message)}`,
        hint: NOT_RUNNING,
        exitCode: ExitCode.Connection,
      };
    case Code.UNAUTHENTICATED:
      return { message: e.message, hint: KIND_HINTS.Unauthenticated, exitCode: ExitCode.Connection };
    case Code.PERMISSION_DENIED:
      return {
        message: `${e.message}${kinded}`,
        hint: hint ?? KIND_HINTS.PermissionDenied,
        exitCode: ExitCode.Connection,
      };
    case Code.UNIMPLEMENTED:
      return {
        message: "service not available on this controller",
        hint: "the controller does not run the service this command needs; upgrade or start it with that service",
        exitCode: ExitCode.Unavailable,
      };
    case Code.INTERNAL:
      return {
        message: `the controller failed: ${e.message}`,
        hint: "this is a bug in Concord; the controller's log has the details",
        exitCode: ExitCode.Failed,
      };
    default:
      return { message: `${e.message}${kinded}`, hint, exitCode: ExitCode.Failed };
  }
}

// grpc-js says "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution
// note: "; the person needs the last error alone.
function connectionFailure(message: string): string {
  const last = /Last error: (?:Error: )?(.*?)(?:\. Resolution note:.*)?$/s.exec(message);
  return last?.[1]?.trim() || message;
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS_");
}
