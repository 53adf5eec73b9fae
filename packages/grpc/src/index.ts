export { authorize, bearerToken, type Identity, parseTag, TokenAuthority, unitTag } from "./auth";
export { type ClientOptions, createClient } from "./client";
export { encode } from "./codec";
export { Code, ConcordError, errors, fromServiceError, toServiceError } from "./errors";
export { createLogger, type Logger, Metrics } from "./observability";
export { ConcordServer, type ServerOptions } from "./server";
export type { CallContext, CallOptions, Client, ServiceImpl } from "./types";
