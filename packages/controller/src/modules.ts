import type { ServiceModule } from "@concord/runtime";

/** Every service module the all-in-one controller runs, in start order (producers before consumers). */
export async function allModules(): Promise<ServiceModule[]> {
  const { relationModule } = await import("@concord/relation");
  const { leadershipModule } = await import("@concord/leadership");
  const { meterstatusModule } = await import("@concord/meterstatus");
  const { multiwatcherModule } = await import("@concord/multiwatcher");
  // The multiwatcher only consumes the event log: it starts after every producer.
  return [relationModule, leadershipModule, meterstatusModule, multiwatcherModule];
}
