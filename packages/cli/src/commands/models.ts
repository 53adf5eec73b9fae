import { ModelService } from "@concord/proto/relation/v1/relation";
import { CliError, ExitCode } from "../errors";
import { formatData, lifeName } from "../status/status-view";
import { table } from "../table";
import type { Command } from "../types";

/** `concord add-model <name>`. */
export const addModel: Command = {
  name: "add-model",
  summary: "Add a model and make it current",
  usage: "add-model <name>",
  description:
    "Creates a model on the controller and records it as the current model in the data folder " +
    "($CONCORD_DATA/current-model), as `juju add-model` switches to the new model.",
  args: [1, 1],
  async run({ io, args, session }) {
    const { model } = await session.client(ModelService).createModel({ name: args[0]! });
    await session.setCurrentModel(model!.name);
    io.stdout.write(`Added model "${model!.name}" (${model!.uuid}) and made it current.\n`);
    return 0;
  },
};

/** `concord models`. */
export const models: Command = {
  name: "models",
  summary: "List the models; * marks the current one",
  usage: "models [--format tabular|json|yaml]",
  description: "Lists the controller's models. The current model (see `concord switch`) is marked with *.",
  args: [0, 0],
  formats: true,
  async run({ io, session, format }) {
    const { models } = await session.client(ModelService).listModels({});
    const recorded = session.currentModelName();
    const current =
      models.find((m) => m.name === recorded || m.uuid === recorded)?.name ??
      (recorded === undefined && models.length === 1 ? models[0]!.name : "");
    const rows = models
      .map((m) => ({ name: m.name, uuid: m.uuid, life: lifeName(m.life) }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    if (format !== "tabular") {
      io.stdout.write(formatData({ "current-model": current, models: rows }, format));
    } else if (rows.length === 0) {
      io.stdout.write("No models. Add one with `concord add-model <name>`.\n");
    } else {
      io.stdout.write(
        `${table([
          ["Model", "UUID", "Life"],
          ...rows.map((m) => [m.name === current ? `${m.name}*` : m.name, m.uuid, m.life]),
        ])}\n`,
      );
    }
    return 0;
  },
};

/** `concord switch <model>`. */
export const switchModel: Command = {
  name: "switch",
  summary: "Make a model current",
  usage: "switch <model>",
  description: "Records the model (by name or UUID) as the current one in the data folder.",
  args: [1, 1],
  async run({ io, args, session }) {
    const { models } = await session.client(ModelService).listModels({});
    const found = models.find((m) => m.name === args[0] || m.uuid === args[0]);
    if (!found) {
      throw new CliError(
        "ModelNotFound",
        `model "${args[0]}" not found`,
        ExitCode.Failed,
        "`concord models` lists the models",
      );
    }
    await session.setCurrentModel(found.name);
    io.stdout.write(`Current model is now "${found.name}".\n`);
    return 0;
  },
};
