import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { MultiwatcherMetrics, ResultType } from "./domain";

/** The hooks the feed calls for the metrics that are observed rather than read from the report. */
export interface MetricHooks {
  append(seconds: number): void;
  apply(seconds: number): void;
  duplicate(): void;
}

const prefix = "concord_multiwatcher_";
const latencyBuckets = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
];

/**
 * Registers the multiwatcher's metrics (spec §10.2, after Juju's `juju_multiwatcher` collector) on `registry`.
 * Gauges and the counters the domain keeps are read from `read()` at each scrape; the latencies and duplicates
 * are observed through the returned hooks. `read` is called lazily, so it may refer to a feed started later.
 */
export function registerMetrics(
  registry: Registry,
  read: () => MultiwatcherMetrics | undefined,
): MetricHooks {
  const gauge = (name: string, help: string, value: (m: MultiwatcherMetrics) => number) =>
    new Gauge({
      name: prefix + name,
      help,
      registers: [registry],
      collect() {
        const m = read();
        if (m) this.set(value(m));
      },
    });
  // prom-client counters cannot be set: each scrape adds what the domain counted since the previous one.
  const counter = (name: string, help: string, value: (m: MultiwatcherMetrics) => number) => {
    let seen = 0;
    return new Counter({
      name: prefix + name,
      help,
      registers: [registry],
      collect() {
        const m = read();
        if (!m) return;
        const now = value(m);
        if (now > seen) this.inc(now - seen);
        seen = now;
      },
    });
  };

  gauge("watchers", "Live watchers (Juju's watcher_count).", (m) => m.watchers);
  gauge("store_entries", "Store entries, tombstones included (Juju's store_size).", (m) => m.storeEntries);
  gauge("queue_size", "Events received but not yet applied.", (m) => m.queueSize);
  gauge(
    "queue_age_seconds",
    "Age of the oldest queued event; 0 when the queue is empty.",
    (m) => m.queueAgeSeconds,
  );
  gauge("revision", "The applied revision (event-log sequence).", (m) => m.revision);
  gauge("oldest_revision", "The oldest revision a watch may resume from.", (m) => m.oldestRevision);
  counter(
    "restarts_total",
    "Non-resumable backing failures: store rebuilds (Juju's restart_count).",
    (m) => m.restartsTotal,
  );
  counter("resumes_total", "Backing failures recovered by resuming the consumer.", (m) => m.resumesTotal);
  counter(
    "expired_watchers_total",
    "Watchers expired by removed-entity retention.",
    (m) => m.expiredWatchersTotal,
  );
  counter(
    "bad_events_total",
    "Events skipped because they could not be decoded or applied.",
    (m) => m.badEventsTotal,
  );

  const seenResults: Record<ResultType, number> = { snapshot: 0, resume: 0, changes: 0, bookmark: 0 };
  new Counter({
    name: `${prefix}results_total`,
    help: "Results delivered, by type.",
    labelNames: ["type"],
    registers: [registry],
    collect() {
      const m = read();
      if (!m) return;
      for (const type of Object.keys(seenResults) as ResultType[]) {
        const now = m.resultsTotal[type];
        if (now > seenResults[type]) this.inc({ type }, now - seenResults[type]);
        seenResults[type] = now;
      }
    },
  });

  const apply = new Histogram({
    name: `${prefix}apply_seconds`,
    help: "Time to apply one event to the store (Juju's process).",
    buckets: latencyBuckets,
    registers: [registry],
  });
  const append = new Histogram({
    name: `${prefix}append_seconds`,
    help: "Time from the event log storing an event to the multiwatcher queueing it (Juju's append, with delivery).",
    buckets: latencyBuckets,
    registers: [registry],
  });
  const duplicates = new Counter({
    name: `${prefix}duplicates_total`,
    help: "Events redelivered at or below the applied revision and ignored (Juju's dupe).",
    registers: [registry],
  });
  return {
    append: (s) => append.observe(s),
    apply: (s) => apply.observe(s),
    duplicate: () => duplicates.inc(),
  };
}
