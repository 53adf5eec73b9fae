import type { Sql, TransactionSql } from "postgres";
import type { Life, MeterStatus, MeterStatusCode } from "../domain";

/** Anything queries can run on. */
export type Db = Sql | TransactionSql;

/** A unit as this service knows it. */
export interface UnitRow {
  name: string;
  application: string;
  life: Life;
  code: MeterStatusCode;
  info: string;
}

/** What the agent-facing reads need of one unit: its own status, undefined when the unit is not known. */
export interface UnitStatusRead {
  unit: string;
  status: MeterStatus | undefined;
}
