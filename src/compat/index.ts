// The compatibility service: the REST paths and JSON shapes of the servers Flowgate replaces (the enterprise
// FastAPI + Temporal servers and the LlamaIndex WorkflowServer), for their existing callers. Not part of the
// contract; served beside it on the same port, on the same domain core.
export { compatRoutes } from "./seed-routes.js";
export type { CompatRoutesOptions } from "./seed-routes.js";
