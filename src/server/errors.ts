// Where every failure becomes a ConnectError, and where a Connect code becomes an HTTP status for REST. The
// domain's error tables are passed in (createErrorMapper); this layer imports no domain module.
import type { JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { codeToString, errorToJson } from "@connectrpc/connect/protocol-connect";
import { mapThroughTables, type ErrorTable } from "../errors/index.js";
import { kCall } from "./access-log.js";
import { passThrough } from "./iterables.js";


/**
 * Connect code to HTTP status for the REST paths: the gRPC-gateway convention (DESIGN.md's error table).
 * One row per code; a test covers each.
 */
export const HTTP_STATUS_BY_CODE: Readonly<Record<Code, number>> = {
  [Code.Canceled]: 499,
  [Code.Unknown]: 500,
  [Code.InvalidArgument]: 400,
  [Code.DeadlineExceeded]: 504,
  [Code.NotFound]: 404,
  [Code.AlreadyExists]: 409,
  [Code.PermissionDenied]: 403,
  [Code.ResourceExhausted]: 429,
  [Code.FailedPrecondition]: 400,
  [Code.Aborted]: 409,
  [Code.OutOfRange]: 400,
  [Code.Unimplemented]: 501,
  [Code.Internal]: 500,
  [Code.Unavailable]: 503,
  [Code.DataLoss]: 500,
  [Code.Unauthenticated]: 401,
};

/** Turns anything thrown into a ConnectError, through the domain's error tables. */
export interface ErrorMapper {
  /**
   * ConnectErrors pass through; a call aborted by its deadline or its client keeps that reason; domain
   * failures go through their tables; anything else is Internal with a message that reveals nothing (the
   * original stays as `cause`, for the log).
   */
  toConnectError(err: unknown, signal?: AbortSignal): ConnectError;
}

/** The mapper for these tables, tried in order; the first matching row wins. */
export function createErrorMapper(tables: readonly ErrorTable[]): ErrorMapper {
  return {
    toConnectError(err, signal) {
      if (err instanceof ConnectError) return err;
      const mapped = mapThroughTables(tables, err);
      if (signal?.aborted) {
        const reason = ConnectError.from(signal.reason);
        // A mapped error that explains the same abort better (which run is still going) keeps its message.
        return mapped?.code === reason.code ? mapped : reason;
      }
      return mapped ?? new ConnectError("internal error", Code.Internal, undefined, undefined, err);
    },
  };
}

/**
 * 5xx codes that are not the server's fault: Temporal unavailable, a deadline the client chose running out.
 * They are logged at info with their reason, not at error with a stack.
 */
const OPERATIONAL_CODES: ReadonlySet<Code> = new Set([Code.Unavailable, Code.DeadlineExceeded]);

/**
 * The outermost interceptor: maps every failure once. It records the procedure and any failure's code on
 * the call's record, for the request's one log line; a failure that is the server's fault also gets a line
 * of its own at error, with its cause and stack.
 */
export function createErrorInterceptor(mapper: ErrorMapper): Interceptor {
  return (next) => async (req) => {
    const call = req.contextValues.get(kCall);
    const procedure = `${req.service.typeName}/${req.method.name}`;
    if (call !== undefined) call.procedure = procedure;
    const fail = (err: unknown): ConnectError => {
      const connectErr = mapper.toConnectError(err, req.signal);
      const code = codeToString(connectErr.code);
      if (call !== undefined) {
        call.code = code;
        call.reason = connectErr.rawMessage;
      }
      if (HTTP_STATUS_BY_CODE[connectErr.code] >= 500 && !OPERATIONAL_CODES.has(connectErr.code)) {
        call?.log.error({ err: connectErr.cause ?? connectErr, procedure, code }, "rpc failed");
      }
      return connectErr;
    };
    try {
      const res = await next(req);
      // A server stream fails while its messages are read, after `next` returned: map those failures too.
      if (res.stream) return { ...res, message: passThrough(res.message, { fail }) };
      return res;
    } catch (err) {
      throw fail(err);
    }
  };
}

/** A REST answer for a failure: the Connect error body `{code, message, details}`, and its HTTP status. */
export function restError(err: ConnectError, httpStatus = HTTP_STATUS_BY_CODE[err.code]): { status: number; body: JsonObject } {
  return { status: httpStatus, body: errorToJson(err, undefined) };
}

/**
 * Failures Fastify raises before any handler runs (body parsing and limits), in the Connect error shape.
 * They keep their finer HTTP status (413, 415) where REST clients expect one. `bodyLimitBytes` is the
 * route's body limit, named in a 413's message.
 */
export function restErrorOfFramework(
  err: (Error & { code?: string; statusCode?: number }) | ConnectError,
  mapper: ErrorMapper,
  bodyLimitBytes: number,
): { status: number; body: JsonObject } {
  if (err instanceof ConnectError) return restError(err);
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return restError(new ConnectError(`the request body is larger than the limit of ${bodyLimitBytes} bytes`, Code.ResourceExhausted), 413);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return restError(new ConnectError(err.message, Code.InvalidArgument), 415);
    default:
      break;
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = status === 404 ? Code.NotFound : status === 405 ? Code.Unimplemented : Code.InvalidArgument;
    return restError(new ConnectError(err.message, code), status);
  }
  return restError(mapper.toConnectError(err));
}
