import { ConcordError } from "@concord/grpc";
import { MeterStatusService } from "@concord/proto/meterstatus/v1/meterstatus";
import { CliError, ExitCode } from "../errors";
import type { Command } from "../types";

/** `concord set-meter-status <application|unit> <code> [--info <text>]`. */
export const setMeterStatus: Command = {
  name: "set-meter-status",
  summary: "Set the meter status of a unit or of every unit of an application",
  usage: "set-meter-status <application|unit> <GREEN|AMBER|RED> [--info <text>]",
  description:
    "Sets the meter status of one unit (`app/N`), or of every alive unit of an application, as Juju's " +
    "`set-meter-status` does. Only GREEN, AMBER and RED may be set; the unit must be alive.",
  options: { info: { type: "string" } },
  args: [2, 2],
  async run({ io, args, flags, session }) {
    const [target, code] = args as [string, string];
    const model = await session.model();
    const { changed } = await session
      .client(MeterStatusService)
      .setMeterStatus({
        modelUuid: model.uuid,
        target: target.includes("/")
          ? { case: "unit", value: target }
          : { case: "application", value: target },
        code,
        info: typeof flags.info === "string" ? flags.info : "",
      })
      .catch((err: unknown) => {
        if (err instanceof ConcordError && err.kind === "NotValid")
          throw new CliError(
            err.kind,
            `${err.message} (NotValid)`,
            ExitCode.Failed,
            "set GREEN, AMBER or RED",
          );
        throw err;
      });
    io.stdout.write(
      changed.length > 0
        ? `Meter status ${code} set for ${changed.join(", ")}.\n`
        : `Meter status of ${target} unchanged.\n`,
    );
    return 0;
  },
};
