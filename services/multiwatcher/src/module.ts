import { ConfigError, env } from "@concord/config";
import type { RunningService, ServiceModule } from "@concord/runtime";
import { type Feed, startFeed } from "./feed";
import { registerMetrics } from "./metrics";
import { MultiwatcherService, multiwatcherHandlers } from "./server";

/**
 * The multiwatcher as a Concord service module: no tables, no events of its own. It rebuilds its store from the
 * event log at start (no calls to other services), keeps consuming it, and serves
 * `concord.multiwatcher.v1.MultiwatcherService`. Settings: CONCORD_MW_REMOVED_RETENTION_MS (default 5 min) and
 * CONCORD_MW_BOOKMARK_INTERVAL_MS (default 30 s).
 */
export const multiwatcherModule: ServiceModule = {
  name: "multiwatcher",
  publishesEvents: false,
  async start(deps): Promise<RunningService> {
    let feed: Feed | undefined;
    const hooks = registerMetrics(deps.metrics.registry, () => feed?.multiwatcher.metrics());
    feed = startFeed({
      log: deps.events,
      clock: deps.clock,
      logger: deps.logger,
      ...positive("CONCORD_MW_REMOVED_RETENTION_MS", "removedRetentionMs"),
      ...positive("CONCORD_MW_BOOKMARK_INTERVAL_MS", "bookmarkIntervalMs"),
      observe: hooks,
    });
    deps.server.add(MultiwatcherService, multiwatcherHandlers(feed));
    const started = feed;
    return { stop: () => started.stop() };
  },
};

function positive<K extends string>(variable: string, key: K): Partial<Record<K, number>> {
  const text = env(variable);
  if (text === undefined) return {};
  const value = Number(text);
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new ConfigError(
      `${variable} must be a positive number of milliseconds, not ${JSON.stringify(text)}`,
    );
  }
  return { [key]: value } as Partial<Record<K, number>>;
}
