import type { ServiceModule } from "@concord/runtime";

/** Every service module the all-in-one controller runs, in start order (producers before consumers). */
export async function allModules(): Promise<ServiceModule[]> {
  return [];
}
