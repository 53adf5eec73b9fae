// The `leader` change events the service publishes through its outbox, one per change of holder.
import { create } from "@bufbuild/protobuf";
import { type ChangeEvent, ChangeEventSchema } from "@concord/proto/events/v1/events";

/** The service's Postgres schema, whose outbox the runtime relays. */
export const SCHEMA = "leadership";

/** The source name the events carry. */
const SOURCE = "leadership";

/**
 * The event of an application's new holder (`holder` empty once nobody holds the lease) with the term of the
 * current or last tenure; consumers keep the highest term they saw.
 */
export function leaderEvent(
  modelUuid: string,
  application: string,
  holder: string,
  term: number,
): ChangeEvent {
  return create(ChangeEventSchema, {
    modelUuid,
    kind: "leader",
    id: application,
    source: SOURCE,
    change: {
      case: "entity",
      value: { kind: { case: "leader", value: { modelUuid, application, holder, term: BigInt(term) } } },
    },
  });
}
