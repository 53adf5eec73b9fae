import { fail } from "./errors";
import { RELATION_STATUSES, type RelationStatus } from "./types";

/** Whether a string is one of the relation status values. */
export function isRelationStatus(s: string): s is RelationStatus {
  return (RELATION_STATUSES as readonly string[]).includes(s);
}

/**
 * Checks a relation status change (spec section 10) and returns the message to store: setting the same status
 * is always allowed; error needs a message; suspending → suspended with no message keeps the reason.
 */
export function checkStatusTransition(
  from: RelationStatus,
  to: string,
  message: string,
  previousMessage: string,
): string {
  if (!isRelationStatus(to)) throw fail("NotValid", `invalid status ${JSON.stringify(to)}`);
  if (to === "error" && message === "")
    throw fail("NotValid", "setting relation status to error needs a message");
  if (from !== to && !allowed(from, to))
    throw fail("RelationStatusTransitionNotValid", `cannot set relation status from ${from} to ${to}`);
  if (from === "suspending" && to === "suspended" && message === "") return previousMessage;
  return message;
}

function allowed(from: RelationStatus, to: RelationStatus): boolean {
  switch (to) {
    case "broken":
    case "error":
      return true;
    case "suspending":
      return from !== "broken" && from !== "suspended";
    case "joining":
      return from !== "broken" && from !== "joined";
    case "joined":
    case "suspended":
      return from !== "broken";
  }
}
