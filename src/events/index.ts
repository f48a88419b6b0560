// Event triggers: published events (CloudEvents, Dapr's envelope) start the workflows whose filters match,
// once per (trigger, event id).
export { EVENTS_ERROR_TABLE, InvalidEventError, TriggerRegistrationError } from "./errors.js";
export type { PublishedEvent } from "./event.js";
export type { EventCondition, EventFilter } from "./filter.js";
export { checkTriggers, EventTriggers, inputPathOf } from "./triggers.js";
export type { DaprSubscription, FiredTrigger, TriggerDefinition } from "./triggers.js";
