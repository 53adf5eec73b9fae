export { startConsumer } from "./consumer";
export { DEFAULT_DUPLICATE_WINDOW_MS, type EmbeddedLogOptions, openEmbeddedLog } from "./embedded-log";
export { EventLogError, type EventLogErrorKind, isEventLogError } from "./errors";
export { DEFAULT_STREAM, type NatsLogOptions, openNatsLog } from "./nats-log";
export { type EventLogConfig, openEventLog } from "./open";
export { consumerOffsetsTable, eventTablesDdl, outboxChannel, outboxTable, writeOutbox } from "./outbox";
export { startRelay } from "./relay";
export {
  ALL_EVENTS,
  type EntityRef,
  escapeToken,
  parseSubject,
  SUBJECT_PREFIX,
  subjectFilter,
  subjectFor,
  subjectMatches,
  unescapeToken,
} from "./subjects";
export {
  dropTestStreams,
  startNatsServer,
  type TestNatsServer,
  testEventLogConfig,
  testNatsUrl,
  testStreamName,
} from "./testing";
export type {
  AppendOptions,
  AppendResult,
  Consumer,
  ConsumerOptions,
  EventLog,
  LastPerSubject,
  Logger,
  LogInfo,
  LogMessage,
  Relay,
  RelayOptions,
  SubscribeOptions,
  Subscription,
} from "./types";
