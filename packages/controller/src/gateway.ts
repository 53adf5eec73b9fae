import type { DescFile } from "@bufbuild/protobuf";
import type { ConcordServer } from "@concord/grpc";
import { file_concord_leadership_v1_leadership } from "@concord/proto/leadership/v1/leadership";
import { file_concord_meterstatus_v1_meterstatus } from "@concord/proto/meterstatus/v1/meterstatus";
import { file_concord_multiwatcher_v1_multiwatcher } from "@concord/proto/multiwatcher/v1/multiwatcher";
import { file_concord_relation_v1_relation } from "@concord/proto/relation/v1/relation";

/** Which contract each service process serves, and the variable naming its address behind the gateway. */
export const SERVICE_CONTRACTS: { service: string; file: DescFile; addressVar: string; port: number }[] = [
  {
    service: "relation",
    file: file_concord_relation_v1_relation,
    addressVar: "CONCORD_RELATION_ADDR",
    port: 17100,
  },
  {
    service: "leadership",
    file: file_concord_leadership_v1_leadership,
    addressVar: "CONCORD_LEADERSHIP_ADDR",
    port: 17110,
  },
  {
    service: "meterstatus",
    file: file_concord_meterstatus_v1_meterstatus,
    addressVar: "CONCORD_METERSTATUS_ADDR",
    port: 17120,
  },
  {
    service: "multiwatcher",
    file: file_concord_multiwatcher_v1_multiwatcher,
    addressVar: "CONCORD_MULTIWATCHER_ADDR",
    port: 17130,
  },
];

/**
 * Makes `server` a gateway: every gRPC service of each Concord service is forwarded to that service's process, so
 * clients (CLI, agents) keep using one address while each service runs as its own process.
 */
export function addRoutes(server: ConcordServer, addresses: Record<string, string>): void {
  for (const contract of SERVICE_CONTRACTS) {
    const target = addresses[contract.service];
    if (!target) throw new Error(`no address for the ${contract.service} service (${contract.addressVar})`);
    for (const service of contract.file.services) server.addProxy(service, target);
  }
}
