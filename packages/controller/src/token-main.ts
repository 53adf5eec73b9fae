// `npm run token -- issue <identity> [--ttl seconds]`: prints a bearer token signed with the controller's secret
// (CONCORD_TOKEN_SECRET, else the all-in-one data folder's generated secret).
import { ConcordError, TokenAuthority } from "@concord/grpc";
import { dataDir, tokenSecret } from "@concord/runtime";

const usage = "usage: concord-token issue <admin | unit-<app>-<n> | application-<app>> [--ttl seconds]";
const [verb, tag, flag, ttl] = process.argv.slice(2);
if (verb !== "issue" || !tag || (flag !== undefined && (flag !== "--ttl" || !/^\d+$/.test(ttl ?? "")))) {
  console.error(usage);
  process.exit(2);
}
try {
  const tokens = new TokenAuthority(await tokenSecret(dataDir()));
  console.log(await tokens.issue(tag, ttl ? Number(ttl) : 0));
} catch (err) {
  console.error(`concord-token: ${err instanceof ConcordError ? err.message : (err as Error).message}`);
  process.exit(2);
}
