// Leader settings (spec §9.5): read by any unit of the application, written only by its leader, with the
// leadership checked inside the write transaction against the lease table (a fenced write, §8). Watchers on
// every replica learn of writes through LISTEN/NOTIFY.
import type { Sql } from "@concord/db";
import { notLeaderError } from "../domain/errors";
import { LEADERSHIP_NAMESPACE } from "../domain/types";
import type { PgLeaseStore } from "./lease-store";

/** The LISTEN/NOTIFY channel of leader-settings writes; the payload names the model and application. */
const CHANNEL = "concord_leadership_settings";

/** An application's leader settings and their version (0 = never written). */
export interface LeaderSettingsView {
  settings: Record<string, string>;
  version: number;
}

const payloadOf = (modelUuid: string, application: string) => `${modelUuid}/${application}`;

/** Leader settings in table `leadership.leader_settings`. */
export class LeaderSettingsStore {
  readonly #sql: Sql;
  readonly #leases: PgLeaseStore;
  readonly #listeners = new Map<string, Set<() => void>>();
  #listening: Promise<{ unlisten(): Promise<void> }> | undefined;

  constructor(sql: Sql, leases: PgLeaseStore) {
    this.#sql = sql;
    this.#leases = leases;
  }

  /** The application's settings; empty with version 0 when never written. */
  async read(modelUuid: string, application: string): Promise<LeaderSettingsView> {
    const [row] = await this.#sql<{ settings: Record<string, string>; version: string }[]>`
      select settings, version from leadership.leader_settings
      where model_uuid = ${modelUuid} and application = ${application}`;
    return { settings: row?.settings ?? {}, version: Number(row?.version ?? 0) };
  }

  /**
   * Merges `settings` (an empty value deletes the key) if `unit` holds the application's live lease, with
   * `term` when given, at the moment of the write; otherwise NotLeaderError. The lease row is share-locked
   * until commit, so a revoke or a rival's claim cannot slip in between the check and the write.
   */
  async merge(
    modelUuid: string,
    application: string,
    unit: string,
    settings: Record<string, string>,
    term?: number,
  ): Promise<void> {
    await this.#sql.begin(async (tx) => {
      const now = this.#leases.now(tx);
      const [lease] = await tx<{ term: string }[]>`
        select l.term from leadership.lease l
        where l.namespace = ${LEADERSHIP_NAMESPACE} and l.model_uuid = ${modelUuid} and l.name = ${application}
          and l.holder = ${unit}
          and (l.expiry_at > ${now} or exists (select 1 from leadership.lease_pin p
            where p.namespace = l.namespace and p.model_uuid = l.model_uuid and p.name = l.name))
        for share`;
      if (!lease || (term !== undefined && Number(lease.term) !== term)) {
        throw notLeaderError(application, unit);
      }
      const set = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== ""));
      const drop = Object.entries(settings)
        .filter(([, v]) => v === "")
        .map(([k]) => k);
      await tx`
        insert into leadership.leader_settings (model_uuid, application, settings, version)
        values (${modelUuid}, ${application}, ${JSON.stringify(set)}::jsonb, 1)
        on conflict (model_uuid, application) do update
        set settings = (leadership.leader_settings.settings - ${drop}::text[]) || ${JSON.stringify(set)}::jsonb,
            version = leadership.leader_settings.version + 1`;
      await tx`select pg_notify(${CHANNEL}, ${payloadOf(modelUuid, application)})`;
    });
  }

  /**
   * Calls `onChange` after every committed write of the application's settings until the returned function
   * is called. Resolves once the LISTEN is in place, so a read made after it cannot miss a later write.
   */
  async subscribe(modelUuid: string, application: string, onChange: () => void): Promise<() => void> {
    const key = payloadOf(modelUuid, application);
    const set = this.#listeners.get(key) ?? new Set();
    this.#listeners.set(key, set);
    set.add(onChange);
    this.#listening ??= this.#sql.listen(CHANNEL, (payload) => {
      for (const listener of this.#listeners.get(payload) ?? []) listener();
    });
    await this.#listening;
    return () => {
      set.delete(onChange);
      if (set.size === 0 && this.#listeners.get(key) === set) this.#listeners.delete(key);
    };
  }

  /** Stops listening. */
  async close(): Promise<void> {
    const listening = this.#listening;
    this.#listening = undefined;
    if (listening) await (await listening).unlisten();
  }
}
