import { MultiwatcherService } from "@concord/proto/multiwatcher/v1/multiwatcher";
import { ModelCache } from "../status/model-cache";
import { formatData, formatStatus, statusDocument, statusView } from "../status/status-view";
import { followModel, snapshot } from "../status/watch";
import type { Command } from "../types";

// Cursor home and clear screen: the table is redrawn in place, as `watch` does.
const REDRAW = "\x1b[H\x1b[2J";

/** `concord status [--watch]`. */
export const status: Command = {
  name: "status",
  summary: "Show the model's applications, units and relations",
  usage: "status [--watch] [--format tabular|json|yaml]",
  description:
    "Shows the model as the multiwatcher sees it: applications (with their leader), units (the leader marked " +
    "with *, with meter status) and relations (with status). --watch keeps it live from the model's delta " +
    "stream (no polling): on a terminal the table is redrawn in place; otherwise each change prints the whole " +
    "status again. With --format json each change is one JSON document on one line. A dropped connection is resumed from the " +
    "last revision seen. Ctrl-C stops watching.",
  options: { watch: { type: "boolean", short: "w" } },
  args: [0, 0],
  formats: true,
  async run({ io, flags, session, format }) {
    const model = await session.model();
    const client = session.client(MultiwatcherService);
    const cache = new ModelCache();
    const render = () => statusView(cache.entities(), model, session.address, cache.revision);
    if (!flags.watch) {
      await snapshot(client, model.uuid, cache);
      io.stdout.write(formatStatus(render(), format));
      return 0;
    }
    const redraw = io.stdout.isTTY === true && format === "tabular";
    let last = "";
    for await (const _ of followModel(client, model.uuid, cache, {
      signal: io.signal,
      onRetry: (err, ms) =>
        io.stderr.write(
          `connection lost (${err.message}); resuming from revision ${cache.revision} in ${ms} ms\n`,
        ),
    })) {
      const view = render();
      // Only a change of what is shown is printed: bookmarks and no-op resumes move the revision alone.
      const shown = JSON.stringify({ ...statusDocument(view), model: { ...view.model, revision: 0 } });
      if (shown === last) continue;
      last = shown;
      if (redraw) {
        io.stdout.write(`${REDRAW}${formatStatus(view, "tabular")}\nWatching; Ctrl-C to stop.\n`);
      } else if (format === "json") {
        io.stdout.write(formatData(statusDocument(view), "json-line"));
      } else if (format === "yaml") {
        io.stdout.write(`---\n${formatStatus(view, "yaml")}`);
      } else {
        io.stdout.write(`${formatStatus(view, "tabular")}\n`);
      }
    }
    return 0;
  },
};
