import { ConcordError } from "@concord/grpc";
import { LeadershipService } from "@concord/proto/leadership/v1/leadership";
import { ApplicationService } from "@concord/proto/relation/v1/relation";
import { formatData } from "../status/status-view";
import { table } from "../table";
import type { Command } from "../types";

/** `concord leader <application>`. */
export const leader: Command = {
  name: "leader",
  summary: "Show which unit leads an application",
  usage: "leader <application> [--format tabular|json|yaml]",
  description:
    "Asks the leadership service which unit holds the application's leadership lease, and the lease's " +
    "fencing term. An application whose lease nobody holds shows no leader.",
  args: [1, 1],
  formats: true,
  async run({ io, args, session, format }) {
    const app = args[0]!;
    const model = await session.model();
    // ApplicationNotFound for a name the model does not have, rather than "no leader".
    await session.client(ApplicationService).getApplication({ modelUuid: model.uuid, name: app });
    const leadership = session.client(LeadershipService);
    const holder = (await leadership.leaders({ modelUuid: model.uuid })).leaders[app] ?? "";
    let term = 0n;
    if (holder) {
      try {
        ({ term } = await leadership.checkLeadership({
          modelUuid: model.uuid,
          application: app,
          unit: holder,
        }));
      } catch (err) {
        // The lease changed hands between the two calls: report what is known, the holder without its term.
        if (!(err instanceof ConcordError && err.kind === "NotLeaderError")) throw err;
      }
    }
    const doc = { application: app, leader: holder, term: Number(term) };
    if (format !== "tabular") io.stdout.write(formatData(doc, format));
    else
      io.stdout.write(
        `${table([
          ["App", "Leader", "Term"],
          [app, holder || "(none)", term > 0n ? String(term) : "-"],
        ])}\n`,
      );
    return 0;
  },
};
