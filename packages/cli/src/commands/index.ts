import type { Command } from "../types";
import { addUnit, deploy, removeUnit } from "./applications";
import { leader } from "./leader";
import { setMeterStatus } from "./meter-status";
import { addModel, models, switchModel } from "./models";
import { integrate, relations, removeRelation } from "./relations";
import { status } from "./status";
import { token } from "./token";

/** Every command, in the order `concord help` lists them. */
export const COMMANDS: Command[] = [
  addModel,
  models,
  switchModel,
  deploy,
  addUnit,
  removeUnit,
  integrate,
  removeRelation,
  relations,
  leader,
  setMeterStatus,
  status,
  token,
];
