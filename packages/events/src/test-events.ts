import { create } from "@bufbuild/protobuf";
import {
  type ChangeEvent,
  ChangeEventSchema,
  EntitySchema,
  Life,
  UnitInfoSchema,
} from "@concord/proto/events/v1/events";

/** A unit change event for tests; `workload` tells versions of the same unit apart. */
export function unitEvent(modelUuid: string, name: string, workload = "active"): ChangeEvent {
  return create(ChangeEventSchema, {
    modelUuid,
    kind: "unit",
    id: name,
    source: "test",
    change: {
      case: "entity",
      value: create(EntitySchema, {
        kind: {
          case: "unit",
          value: create(UnitInfoSchema, {
            modelUuid,
            name,
            application: name.split("/")[0] as string,
            life: Life.ALIVE,
            workloadStatus: { current: workload, message: "" },
          }),
        },
      }),
    },
  });
}
