import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { ErrorInfoSchema } from "@concord/proto/google/rpc/error_details";
import { StatusSchema } from "@concord/proto/google/rpc/status";
import { Metadata, type ServiceError, status } from "@grpc/grpc-js";

/** gRPC status codes. */
export const Code = status;
export type Code = status;

const DETAILS_KEY = "grpc-status-details-bin";
const DOMAIN = "concord";

/**
 * The one error type of Concord: a Juju-style kind (`RelationNotFound`, `ErrClaimDenied`, ...) and the gRPC code it
 * maps to. Handlers throw it; the server kit turns it into a status whose google.rpc.ErrorInfo reason is the kind,
 * and the client kit turns that status back into a ConcordError.
 */
export class ConcordError extends Error {
  override name = "ConcordError";
  constructor(
    readonly code: Code,
    readonly kind: string,
    message: string,
    /** Extra machine-readable facts (ErrorInfo metadata), e.g. the oldest resumable revision. */
    readonly details: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Any thrown value as a ConcordError; anything that is not one is a bug, so it becomes INTERNAL. */
  static from(err: unknown): ConcordError {
    if (err instanceof ConcordError) return err;
    const e = err as Partial<ServiceError> | undefined;
    if (e && typeof e.code === "number" && e.metadata instanceof Metadata)
      return fromServiceError(e as ServiceError);
    return new ConcordError(
      Code.INTERNAL,
      "Internal",
      `internal error: ${(err as Error)?.message ?? String(err)}`,
      {},
      {
        cause: err,
      },
    );
  }

  /** Whether this error is of one of the kinds. */
  is(...kinds: string[]): boolean {
    return kinds.includes(this.kind);
  }
}

/** Shorthands for the common codes; the kind is always Juju's name for the condition. */
export const errors = {
  invalidArgument: (kind: string, message: string, details?: Record<string, string>) =>
    new ConcordError(Code.INVALID_ARGUMENT, kind, message, details),
  notFound: (kind: string, message: string, details?: Record<string, string>) =>
    new ConcordError(Code.NOT_FOUND, kind, message, details),
  alreadyExists: (kind: string, message: string, details?: Record<string, string>) =>
    new ConcordError(Code.ALREADY_EXISTS, kind, message, details),
  failedPrecondition: (kind: string, message: string, details?: Record<string, string>) =>
    new ConcordError(Code.FAILED_PRECONDITION, kind, message, details),
  permissionDenied: (message: string, kind = "PermissionDenied") =>
    new ConcordError(Code.PERMISSION_DENIED, kind, message),
  unauthenticated: (message: string) => new ConcordError(Code.UNAUTHENTICATED, "Unauthenticated", message),
  unavailable: (kind: string, message: string, details?: Record<string, string>) =>
    new ConcordError(Code.UNAVAILABLE, kind, message, details),
};

/** The status a ConcordError is sent as: code, message, and google.rpc.Status details with an ErrorInfo. */
export function toServiceError(err: ConcordError): Partial<ServiceError> {
  const info = create(ErrorInfoSchema, { reason: err.kind, domain: DOMAIN, metadata: err.details });
  const st = create(StatusSchema, {
    code: err.code,
    message: err.message,
    details: [anyPack(ErrorInfoSchema, info)],
  });
  const metadata = new Metadata();
  metadata.set(DETAILS_KEY, Buffer.from(toBinary(StatusSchema, st)));
  return { code: err.code, details: err.message, metadata };
}

/** Reads a received status back into a ConcordError (kind "Unknown" when the peer sent no ErrorInfo). */
export function fromServiceError(err: ServiceError): ConcordError {
  let kind = "Unknown";
  let details: Record<string, string> = {};
  const bin = err.metadata?.get(DETAILS_KEY)[0];
  if (bin instanceof Buffer) {
    try {
      const st = fromBinary(StatusSchema, bin);
      for (const any of st.details) {
        const info = anyUnpack(any, ErrorInfoSchema);
        if (info) {
          kind = info.reason;
          details = { ...info.metadata };
        }
      }
    } catch {
      // A malformed details trailer leaves the kind unknown; the code and message still stand.
    }
  }
  return new ConcordError(err.code, kind, err.details || err.message, details, { cause: err });
}
