// Watchers on any replica learn of a model's changes through Postgres LISTEN/NOTIFY on the model's channel.
import { ChannelNotifier, type Sql } from "@concord/db";
import { modelChannel } from "./events";

export { Wakeup } from "@concord/db";

/** Subscriptions to one model's change notifications, one LISTEN per model per process. */
export class ModelNotifier {
  readonly #channels: ChannelNotifier;

  constructor(sql: Sql) {
    this.#channels = new ChannelNotifier(sql);
  }

  /** Calls `onChange(payload)` after every committed change of the model; resolves once listening. */
  subscribe(modelUuid: string, onChange: (payload: string) => void): Promise<() => Promise<void>> {
    return this.#channels.subscribe(modelChannel(modelUuid), onChange);
  }
}
