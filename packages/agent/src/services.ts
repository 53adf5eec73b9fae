import { createClient } from "@concord/grpc";
import { Health } from "@concord/proto/grpc/health/v1/health";

/** The fully-qualified names of the services the controller serves (grpc.health.v1 List). */
export async function servedServices(address: string, timeoutMs = 5_000): Promise<Set<string>> {
  const client = createClient(Health, address);
  try {
    const res = await client.list({}, { deadline: timeoutMs });
    return new Set(Object.keys(res.statuses).filter((name) => name !== ""));
  } finally {
    client.close();
  }
}

/** Whether any service of proto package `pkg` (e.g. `concord.leadership.v1`) is served. */
export function servesPackage(services: ReadonlySet<string>, pkg: string): boolean {
  return [...services].some((name) => name.startsWith(`${pkg}.`));
}
