import { fileURLToPath } from "node:url";
import { ChannelNotifier } from "@concord/db";
import { type Consumer, startConsumer, subjectFilter } from "@concord/events";
import { ApplicationService, ModelService, RelationService } from "@concord/proto/relation/v1/relation";
import type { RunningService, ServiceDeps, ServiceModule } from "@concord/runtime";
import { applicationService, modelService, relationService } from "./server";
import { SCHEMA } from "./store/events";
import { RelationState } from "./store/state";

/** The drizzle-kit migrations of schema `relation`. */
export const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));

/** The running relation service; `leaders` is the consumer feeding the leader projection. */
export interface RunningRelationService extends RunningService {
  leaders: Consumer;
}

/**
 * Starts the relation service: removes relations an interrupted removal left dead, adds ModelService,
 * ApplicationService and RelationService to the server, and consumes the leadership service's `leader` events
 * into the leader projection that fences application-settings and status writes.
 */
export async function startRelationService(deps: ServiceDeps): Promise<RunningRelationService> {
  const state = new RelationState(deps.sql, deps.clock);
  const notifier = new ChannelNotifier(deps.sql);
  const removed = await state.removeDeadRelations();
  if (removed > 0) deps.logger.info({ removed }, "removed relations left dead by an interrupted removal");
  deps.server.add(ModelService, modelService({ state, notifier }));
  deps.server.add(ApplicationService, applicationService({ state, notifier }));
  deps.server.add(RelationService, relationService({ state, notifier }));
  const leaders = await startConsumer({
    log: deps.events,
    sql: deps.sql,
    schema: SCHEMA,
    name: "relation-leaders",
    filterSubject: subjectFilter({ kind: "leader" }),
    logger: deps.logger,
    async handle(tx, event) {
      if (event.change.case !== "entity" || event.change.value.kind.case !== "leader") return;
      const l = event.change.value.kind.value;
      await state.applyLeader(tx, l.modelUuid || event.modelUuid, l.application, l.holder, Number(l.term));
    },
  });
  return {
    leaders,
    async stop() {
      await leaders.stop();
    },
  };
}

/** The relation service as the runtime runs it (schema `relation`, publishes change events). */
export const relationModule: ServiceModule = {
  name: "relation",
  migrations: { schema: SCHEMA, folder: migrationsFolder },
  publishesEvents: true,
  start: startRelationService,
};
