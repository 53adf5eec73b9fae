import { join } from "node:path";
import { TokenAuthority } from "@concord/grpc";
import { readDataFile, SECRET_FILE } from "../data-folder";
import { CliError, ExitCode, usageError } from "../errors";
import type { Command } from "../types";

/** `concord token issue <identity> [--ttl <seconds>]`. */
export const token: Command = {
  name: "token",
  summary: "Issue a bearer token signed with the controller's secret",
  usage: "token issue <admin | unit-<app>-<n> | application-<app>> [--ttl <seconds>]",
  description:
    "Prints a token for an identity: admin, a unit agent (unit-wordpress-0) or an application agent " +
    "(application-wordpress). It is signed with CONCORD_TOKEN_SECRET, else with the secret of the all-in-one " +
    "data folder (CONCORD_DATA, default ./.concord), so it works only against that controller. --ttl makes it " +
    "expire after that many seconds (default: never).",
  options: { ttl: { type: "string" } },
  args: [2, 2],
  async run({ io, args, flags, session }) {
    if (args[0] !== "issue") throw usageError(`unknown token action "${args[0]}"`, "the action is `issue`");
    const ttl = flags.ttl;
    if (ttl !== undefined && !(typeof ttl === "string" && /^\d+$/.test(ttl)))
      throw usageError("--ttl must be a whole number of seconds");
    const secret = io.env.CONCORD_TOKEN_SECRET || readDataFile(session.dataDir, SECRET_FILE);
    if (!secret) {
      throw new CliError(
        "NoTokenSecret",
        `no token secret: CONCORD_TOKEN_SECRET is not set and ${join(session.dataDir, SECRET_FILE)} does not exist`,
        ExitCode.Usage,
        "run it where the controller keeps its data (start one with `npm start`), or set CONCORD_DATA",
      );
    }
    const tag = args[1]!;
    try {
      io.stdout.write(`${await new TokenAuthority(secret).issue(tag, ttl ? Number(ttl) : 0)}\n`);
    } catch (err) {
      throw usageError((err as Error).message);
    }
    return 0;
  },
};
