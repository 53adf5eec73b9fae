import type { Entity } from "@concord/proto/events/v1/events";

/** The entity kinds the multiwatcher serves (spec §3); the same names as the `Entity` one-of cases. */
export type EntityKind = "model" | "application" | "unit" | "relation" | "leader" | "meterStatus";

/** An entity's identity: `(kind, modelUUID, id)`. */
export interface EntityKey {
  kind: EntityKind;
  modelUUID: string;
  id: string;
}

/** What a watcher sees: every model (controller scope) or one model (spec §7). */
export type Scope = { type: "controller" } | { type: "model"; modelUUID: string };

/** One entity change in a result: its current value, or its last value when it was removed. */
export interface Delta {
  removed: boolean;
  /** The revision of the entity's last change (for a removal, of the event that removed it). */
  revision: number;
  entity: Entity;
}

/** What one `next()` returns, and one message of a gRPC watch stream (spec §5.1, §11). */
export interface WatchResult {
  /** The replica's applied revision when the result was computed: the position the result brings the watcher to. */
  revision: number;
  /** True only for the first result of a watch opened without a revision. */
  snapshot: boolean;
  /** True for a result that only reports the current revision of an idle watcher (spec §11.6). */
  bookmark: boolean;
  deltas: Delta[];
}

/** Options of a watch. */
export interface WatchOptions {
  /** Resume after this revision instead of starting with a snapshot (spec §11.3). */
  sinceRevision?: number;
}

import type { Clock } from "@concord/clock";

export type { Clock, Timer } from "@concord/clock";

/** The minimal logger the domain writes to (pino-compatible). */
export interface Logger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** One entity of a snapshot, with the revision of its last change when the source knows it (spec §2.3). */
export interface SnapshotEntity {
  entity: Entity;
  revision?: number;
}

/** The current state of every entity as of (at least) event-log sequence `revision` (spec §2.3). */
export interface Snapshot {
  revision: number;
  entities: SnapshotEntity[];
}

/** What the multiwatcher knows about the event log's retained history (spec §11.3). */
export interface LogBounds {
  /** O: the first retained sequence minus one (the last sequence when the log holds no event). */
  oldestRevision: number;
  /** L: the log's last sequence. */
  lastSequence: number;
}

/** The consumer queue the service keeps in front of `applyEvent` (spec §6.3), for the report. */
export interface QueueStats {
  size: number;
  ageSeconds: number;
}

/** Configuration of a `Multiwatcher` (spec §6.1). */
export interface MultiwatcherConfig {
  clock: Clock;
  logger?: Logger;
  /** How long a tombstone may be kept for viewers that have not been told (spec §11.7). Default 5 minutes. */
  removedRetentionMs?: number;
  /** How long a waiting watcher waits before it gets a bookmark (spec §11.6). Default 30 seconds. */
  bookmarkIntervalMs?: number;
  /** Asked for fresh bounds before a resume revision above the known last sequence is refused. */
  refreshLogBounds?: () => Promise<LogBounds>;
  /** The service's consumer queue, reported as `queue-size` and `queue-age`. */
  queueStats?: () => QueueStats;
  /** Called with the time taken to apply each event that completed a commit (the apply histogram). */
  onApply?: (seconds: number) => void;
}

/** What `applyEvent` did with an event. */
export type ApplyOutcome =
  /** The event completed its commit and the commit was applied. */
  | "applied"
  /** The event is part of a commit whose last event has not arrived yet. */
  | "buffered"
  /** The event's sequence is not above the applied revision (a redelivery); ignored. */
  | "duplicate"
  /** The multiwatcher is shut down; ignored. */
  | "ignored";

/** The multiwatcher's report (spec §10.1); the keys are the spec's. */
export interface Report {
  "num-watchers": number;
  "store-size": number;
  "restart-count": number;
  "resume-count": number;
  "queue-size": number;
  "queue-age": number;
  /** The last five backing errors; present only after the first. */
  errors?: string[];
  revision: number;
  "oldest-revision": number;
}

/** The kinds of result counted by `concord_multiwatcher_results_total`. */
export type ResultType = "snapshot" | "resume" | "changes" | "bookmark";

/** The values behind the Prometheus metrics of spec §10.2, as plain data. */
export interface MultiwatcherMetrics {
  watchers: number;
  storeEntries: number;
  restartsTotal: number;
  resumesTotal: number;
  queueSize: number;
  queueAgeSeconds: number;
  revision: number;
  oldestRevision: number;
  expiredWatchersTotal: number;
  badEventsTotal: number;
  resultsTotal: Record<ResultType, number>;
}
