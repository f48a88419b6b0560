// The example's handler: TestAuth checks a token, FetchMetadata lists what a form may pick from, and
// PreflightCheck refuses an order before anyone starts it.
import { HandlerError, type AppHandler } from "flowgate";

export const DEMO_TOKEN = "demo-token";

export const handler: AppHandler = {
  testAuth({ payload }) {
    if (typeof payload.api_token !== "string") throw new HandlerError("invalid_argument", "api_token: required (a string)");
    if (payload.api_token !== DEMO_TOKEN) throw new HandlerError("unauthenticated", "api_token: not accepted by the shop");
    return { success: true, message: "the shop accepts this token" };
  },
  fetchMetadata() {
    return { warehouses: ["berlin", "lisbon"], currencies: ["EUR", "USD"] };
  },
  preflightCheck({ payload }) {
    const lines = Array.isArray(payload.lines) ? payload.lines : [];
    if (lines.length === 0) throw new HandlerError("failed_precondition", "lines: an order needs at least one line");
    return { success: true, message: `${lines.length} lines can be placed` };
  },
};
