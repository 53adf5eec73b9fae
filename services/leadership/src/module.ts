import { fileURLToPath } from "node:url";
import { envInt } from "@concord/config";
import { startConsumer } from "@concord/events";
import { Life } from "@concord/proto/events/v1/events";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import type { ServiceModule } from "@concord/runtime";
import { isKind } from "./domain/errors";
import { apiClaimDurationBounds, LeadershipFacade } from "./domain/facade";
import { LeaseManager, managerDefaults } from "./domain/manager";
import { LEADERSHIP_NAMESPACE } from "./domain/types";
import { applicationOfUnit, defaultSecretaries } from "./domain/validation";
import { leadershipService } from "./server";
import { SCHEMA } from "./store/events";
import { PgLeaseStore } from "./store/lease-store";
import { LeaderSettingsStore } from "./store/settings-store";

/** The drizzle-kit migrations of schema `leadership`. */
export const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));

/**
 * Test-only: lowers the shortest claim the API accepts (production 5 s), so that the multi-replica safety test
 * can run many tenures in seconds. Never set it in production: the tracker's 30 s guarantee assumes 60 s leases.
 */
export const MIN_CLAIM_ENV = "CONCORD_LEADERSHIP_TEST_MIN_CLAIM_MS";

/**
 * The leadership service: LeadershipService over a lease manager on the PostgreSQL lease store, and a consumer
 * of the relation service's unit events that revokes the leadership of a unit that is removed or dead.
 */
export const leadershipModule: ServiceModule = {
  name: "leadership",
  migrations: { schema: SCHEMA, folder: migrationsFolder },
  publishesEvents: true,
  async start(deps) {
    const store = new PgLeaseStore({ sql: deps.sql });
    const manager = new LeaseManager({
      store,
      clock: deps.clock,
      logger: deps.logger,
      secretaries: { ...defaultSecretaries },
      maxSleepMs: managerDefaults.maxSleepMs,
    });
    const settings = new LeaderSettingsStore(deps.sql, store);
    const minMs = envInt(MIN_CLAIM_ENV, apiClaimDurationBounds.minMs);
    deps.server.add(
      LeadershipService,
      leadershipService({
        leases: manager,
        settings,
        facade: { claimDurationBounds: { minMs, maxMs: apiClaimDurationBounds.maxMs } },
      }),
    );
    if (minMs !== apiClaimDurationBounds.minMs)
      deps.logger.warn({ minMs }, `${MIN_CLAIM_ENV} is set: test only`);
    const units = await startConsumer({
      log: deps.events,
      sql: deps.sql,
      schema: SCHEMA,
      name: "leadership-units",
      filterSubject: "concord.events.*.unit.*",
      logger: deps.logger,
      async handle(_tx, event) {
        const gone =
          event.change.case === "removed" ||
          (event.change.case === "entity" &&
            event.change.value.kind.case === "unit" &&
            event.change.value.kind.value.life === Life.DEAD);
        if (event.kind !== "unit" || !gone) return;
        // A removed unit hands over at once instead of after up to 60 s (Juju PR #11593).
        const unit = event.id;
        const facade = new LeadershipFacade(manager.bind(LEADERSHIP_NAMESPACE, event.modelUuid));
        try {
          await facade.revokeLeadership(applicationOfUnit(unit), unit);
        } catch (err) {
          if (!isKind(err, "ErrClaimNotHeld") && !isKind(err, "NotValid")) throw err;
        }
      },
    });
    return {
      async stop() {
        await units.stop();
        await manager.stop();
        await settings.close();
      },
    };
  },
};
