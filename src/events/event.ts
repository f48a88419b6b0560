// An event as triggers see it: the CloudEvents 1.0 attributes (and Dapr's topic and component), with its JSON
// data. Filters and input mappings name its values by dotted paths from a root attribute.
import type { JsonValue } from "@bufbuild/protobuf";

export interface PublishedEvent {
  /** Unique per event (with its source); triggers deduplicate on it. */
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  /** Dapr's pub/sub topic; "" when the event did not come through Dapr. */
  readonly topic: string;
  /** Dapr's pub/sub component; "" when the event did not come through Dapr. */
  readonly pubsubName: string;
  readonly time: Date | undefined;
  readonly dataContentType: string;
  readonly data: JsonValue | undefined;
}

/** The roots a path may start from, each with its value in an event. */
const ROOTS: Readonly<Record<string, (e: PublishedEvent) => JsonValue | undefined>> = {
  id: (e) => e.id,
  source: (e) => e.source || undefined,
  type: (e) => e.type || undefined,
  subject: (e) => e.subject || undefined,
  topic: (e) => e.topic || undefined,
  pubsubname: (e) => e.pubsubName || undefined,
  time: (e) => e.time?.toISOString(),
  datacontenttype: (e) => e.dataContentType || undefined,
  data: (e) => e.data,
};

export const PATH_ROOTS: readonly string[] = Object.keys(ROOTS);

/** The steps of a dotted path, or the reason it is not one ("data.items.0.sku" -> data, items, 0, sku). */
export function parsePath(path: string): { steps: readonly string[] } | { problem: string } {
  const steps = path.split(".");
  if (steps.some((s) => s === "")) return { problem: `"${path}" is not a dotted path (an empty step)` };
  if (!(steps[0]! in ROOTS)) return { problem: `"${path}" must start with one of ${PATH_ROOTS.join(", ")}` };
  return { steps };
}

/** The value at a parsed path, undefined when any step is missing. A number steps into an array. */
export function valueAt(event: PublishedEvent, steps: readonly string[]): JsonValue | undefined {
  let value = ROOTS[steps[0]!]!(event);
  for (const step of steps.slice(1)) {
    if (Array.isArray(value)) {
      value = /^\d+$/.test(step) ? value[Number(step)] : undefined;
    } else if (value !== null && typeof value === "object") {
      value = Object.hasOwn(value, step) ? (value)[step] : undefined;
    } else {
      return undefined;
    }
  }
  return value;
}
