import { openEmbeddedLog } from "./embedded-log";
import { EventLogError } from "./errors";
import { type NatsLogOptions, openNatsLog } from "./nats-log";
import type { EventLog } from "./types";

/** Where the event log lives: NATS JetStream when `natsUrl` is set, else the embedded log in `dataDir`. */
export interface EventLogConfig {
  natsUrl?: string;
  dataDir?: string;
  /** JetStream stream name (default `CONCORD_EVENTS`). */
  stream?: string;
  /** Subject namespace on the NATS server (see {@link NatsLogOptions.namespace}); tests set a unique one. */
  namespace?: string;
  /** History kept per subject on JetStream (default: all). */
  maxMsgsPerSubject?: number;
  /** De-duplication window of both implementations (default 10 minutes). */
  duplicateWindowMs?: number;
}

/** Opens the event log the configuration names; the same code runs on either implementation. */
export async function openEventLog(config: EventLogConfig): Promise<EventLog> {
  const window =
    config.duplicateWindowMs === undefined ? {} : { duplicateWindowMs: config.duplicateWindowMs };
  if (config.natsUrl) {
    return openNatsLog({
      url: config.natsUrl,
      ...window,
      ...(config.stream === undefined ? {} : { stream: config.stream }),
      ...(config.namespace === undefined ? {} : { namespace: config.namespace }),
      ...(config.maxMsgsPerSubject === undefined ? {} : { maxMsgsPerSubject: config.maxMsgsPerSubject }),
    });
  }
  if (config.dataDir) return openEmbeddedLog({ dir: config.dataDir, ...window });
  throw new EventLogError("NotValid", "event log config needs natsUrl or dataDir");
}
