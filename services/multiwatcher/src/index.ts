// The multiwatcher service's public face: the domain, the event-log feed that drives it, the gRPC handlers and
// the service module.
export * from "./domain";
export { type Feed, type FeedOptions, startFeed } from "./feed";
export { type MetricHooks, registerMetrics } from "./metrics";
export { multiwatcherModule } from "./module";
export {
  authorizeWatch,
  MultiwatcherService,
  multiwatcherHandlers,
  toConcordError,
  toMessage,
} from "./server";
