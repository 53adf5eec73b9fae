// The multiwatcher service's public face. Only the domain exists so far; the gRPC server and the event-log
// consumer will be built on top of it.
export * from "./domain";
