import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient } from "@concord/grpc";
import { ModelService } from "@concord/proto/relation/v1/relation";
import {
  ADDRESS_FILE,
  ADMIN_TOKEN_FILE,
  CURRENT_MODEL_FILE,
  dataDir,
  readDataFile,
  writeDataFile,
} from "./data-folder";
import { CliError, ExitCode } from "./errors";
import type { GlobalFlags } from "./types";

/** The controller's default address (what `npm start` listens on). */
export const DEFAULT_CONTROLLER = "127.0.0.1:17070";

/** A model as commands refer to it. */
export interface ModelRef {
  uuid: string;
  name: string;
}

/**
 * The controller connection of one command: address, token and current model, each from its flag, else its
 * environment variable, else the all-in-one data folder. Clients are made on first use, so commands that never
 * call the controller (help, token issue) need neither.
 */
export class Session {
  readonly address: string;
  readonly dataDir: string;
  readonly #token: string | undefined;
  readonly #tokenFrom: string;
  readonly #model: string | undefined;
  readonly #clients = new Map<DescService, Client<DescService>>();

  constructor(flags: GlobalFlags, env: Record<string, string | undefined>, cwd: string) {
    this.dataDir = dataDir(env, cwd);
    this.address =
      flags.controller ||
      env.CONCORD_CONTROLLER ||
      readDataFile(this.dataDir, ADDRESS_FILE) ||
      DEFAULT_CONTROLLER;
    if (flags.token) [this.#token, this.#tokenFrom] = [flags.token, "--token"];
    else if (env.CONCORD_TOKEN) [this.#token, this.#tokenFrom] = [env.CONCORD_TOKEN, "CONCORD_TOKEN"];
    else [this.#token, this.#tokenFrom] = [readDataFile(this.dataDir, ADMIN_TOKEN_FILE), this.dataDir];
    this.#model = flags.model || env.CONCORD_MODEL || undefined;
  }

  /** A typed client of one service of the controller, authenticated with the session's token. */
  client<S extends DescService>(service: S): Client<S> {
    let client = this.#clients.get(service);
    if (!client) {
      if (!this.#token) {
        throw new CliError(
          "NoToken",
          `no token: ${this.#tokenFrom}/${ADMIN_TOKEN_FILE} does not exist`,
          ExitCode.Connection,
          "start the controller with `npm start` (it writes the admin token there), set CONCORD_DATA to its " +
            "data folder, or pass --token / CONCORD_TOKEN",
        );
      }
      client = createClient(service, this.address, { token: this.#token }) as unknown as Client<DescService>;
      this.#clients.set(service, client);
    }
    return client as unknown as Client<S>;
  }

  /**
   * The model the command acts on: --model / CONCORD_MODEL (name or UUID), else the current model recorded by
   * `add-model` / `switch`, else the only model of the controller.
   */
  async model(): Promise<ModelRef> {
    const { models } = await this.client(ModelService).listModels({});
    const wanted = this.#model ?? readDataFile(this.dataDir, CURRENT_MODEL_FILE);
    if (wanted) {
      const found = models.find((m) => m.name === wanted || m.uuid === wanted);
      if (!found) {
        throw new CliError(
          "ModelNotFound",
          `model "${wanted}" not found`,
          ExitCode.Failed,
          "`concord models` lists the models; `concord add-model <name>` creates one",
        );
      }
      return { uuid: found.uuid, name: found.name };
    }
    if (models.length === 1) return { uuid: models[0]!.uuid, name: models[0]!.name };
    throw new CliError(
      "NoCurrentModel",
      models.length === 0 ? "the controller has no model" : "no current model",
      ExitCode.Failed,
      models.length === 0
        ? "create one with `concord add-model <name>`"
        : "choose one with --model / CONCORD_MODEL, or make one current with `concord switch <model>`",
    );
  }

  /** Records the current model in the data folder. */
  async setCurrentModel(name: string): Promise<void> {
    await writeDataFile(this.dataDir, CURRENT_MODEL_FILE, name);
  }

  /** The current model's name as recorded, if any. */
  currentModelName(): string | undefined {
    return this.#model ?? readDataFile(this.dataDir, CURRENT_MODEL_FILE);
  }

  /** Closes every client. */
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}
