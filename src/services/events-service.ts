// EventsService: a CloudEvent (or Dapr's envelope) in, the triggers' starts out. The rules (matching, the
// derived workflow id, deduplication) live in src/events.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CloudEvent, EventConditionSchema, TriggerSchema } from "../../gen/flowgate/events/v1/events_pb.js";
import type { EventsService } from "../../gen/flowgate/events/v1/events_service_pb.js";
import { inputPathOf, type EventCondition, type EventTriggers, type PublishedEvent, type TriggerDefinition } from "../events/index.js";
import { callBound } from "../operations/index.js";
import { kCall } from "../server/index.js";
import { jsonToValue, optionalJson } from "./json.js";

/** Dapr's sidecar reads these words in the response body: delivered, and dropped on purpose. */
const DAPR_SUCCESS = "SUCCESS";
const DAPR_DROP = "DROP";

export function createEventsService(triggers: EventTriggers): ServiceImpl<typeof EventsService> {
  return {
    async publishEvent(req, ctx) {
      const event = eventFromProto(req.event, req.eventId);
      const fired = await triggers.publish(event, callBound(ctx.signal, ctx.timeoutMs(), ctx.values.get(kCall)?.trace), ctx.values.get(kCall)?.caller);
      return {
        eventId: event.id,
        fired: fired.map((f) => ({
          triggerId: f.triggerId,
          workflowType: f.workflowType,
          workflowId: f.workflowId,
          runId: f.runId,
          alreadyStarted: !f.started,
        })),
        status: DAPR_SUCCESS,
      };
    },

    async dropEvent() {
      return { status: DAPR_DROP };
    },

    async listTriggers() {
      return { triggers: triggers.list().map(triggerToProto) };
    },

    async listSubscriptions() {
      return { subscriptions: triggers.subscriptions() };
    },
  };
}

function eventFromProto(e: CloudEvent | undefined, pathId: string): PublishedEvent {
  return {
    id: e?.id || pathId,
    source: e?.source ?? "",
    type: e?.type ?? "",
    subject: e?.subject ?? "",
    topic: e?.topic ?? "",
    pubsubName: e?.pubsubname ?? "",
    time: e?.time === undefined ? undefined : timestampDate(e.time),
    dataContentType: e?.datacontenttype ?? "",
    data: optionalJson(e?.data, "event.data"),
  };
}

function triggerToProto(t: TriggerDefinition): MessageInitShape<typeof TriggerSchema> {
  return {
    triggerId: t.id,
    description: t.description ?? "",
    workflowType: t.workflowType,
    taskQueue: t.taskQueue ?? "",
    filter: {
      types: [...(t.filter.types ?? [])],
      topics: [...(t.filter.topics ?? [])],
      sources: [...(t.filter.sources ?? [])],
      conditions: (t.filter.conditions ?? []).map(conditionToProto),
    },
    inputPath: inputPathOf(t),
    pubsubName: t.pubsubName ?? "pubsub",
  };
}

function conditionToProto(c: EventCondition): MessageInitShape<typeof EventConditionSchema> {
  const test: MessageInitShape<typeof EventConditionSchema>["test"] =
    "equals" in c
      ? { case: "equals", value: jsonToValue(c.equals)! }
      : "in" in c
        ? { case: "in", value: { values: c.in.map((v) => jsonToValue(v)!) } }
        : "exists" in c
          ? { case: "exists", value: c.exists }
          : { case: "prefix", value: c.prefix };
  return { path: c.path, test };
}
