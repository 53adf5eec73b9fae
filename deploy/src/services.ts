import type { ConcordProcess, ConcordService, Overlay } from "./types";

/** The standalone services, their default ports and their health service names (deploy/README.md). */
export const CONCORD_SERVICES: readonly ConcordService[] = [
  {
    name: "relation",
    port: 17100,
    health: "concord.relation.v1.RelationService",
    addressVar: "CONCORD_RELATION_ADDR",
  },
  {
    name: "leadership",
    port: 17110,
    health: "concord.leadership.v1.LeadershipService",
    addressVar: "CONCORD_LEADERSHIP_ADDR",
  },
  {
    name: "meterstatus",
    port: 17120,
    health: "concord.meterstatus.v1.MeterStatusService",
    addressVar: "CONCORD_METERSTATUS_ADDR",
  },
  {
    name: "multiwatcher",
    port: 17130,
    health: "concord.multiwatcher.v1.MultiwatcherService",
    addressVar: "CONCORD_MULTIWATCHER_ADDR",
  },
];

/** The gateway: clients' one address (a ClusterIP Service), forwarding each service's calls to its pods. */
export const CONCORD_GATEWAY: ConcordProcess = { name: "gateway", port: 17070, health: "" };

/** The migration Job's name. */
export const MIGRATE_JOB = "concord-migrate";

/** Every kustomization in deploy/; each must render and validate with no finding. */
export const OVERLAYS: readonly Overlay[] = [
  { name: "base", dir: "base", externalSecrets: ["concord-db-app", "concord-token"] },
  { name: "dev", dir: "overlays/dev" },
  // CloudNativePG creates concord-db-app; the operator of the cluster creates concord-token.
  { name: "production", dir: "overlays/production", externalSecrets: ["concord-db-app", "concord-token"] },
];
