// Authentication and authorization on every face of the server, from one Authenticator (src/auth):
//   - RPCs (gRPC, gRPC-Web, Connect and their REST paths): a Connect interceptor, so the refusal is written
//     in the caller's own protocol; the access each RPC needs is read from the contract at start-up.
//   - the routes that are not RPCs (health probes, uploads as a form, the seed-compatible paths, metrics):
//     each declares its access in its route config, and an onRequest hook checks it before the body is read.
//     A route that declares none is refused when it is registered, so none ships unguarded.
import type { DescMethod } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { accessOfMethod, platformAccess, type Access, type Authenticator, type HeaderSource, type PlatformPart } from "../auth/index.js";
import { callRecordOf, kCall, type CallRecord } from "./access-log.js";

/** What a route that is not an RPC needs: a scope, or it is a platform part (public unless the operator says not). */
export type RouteAccess = { readonly scope: string } | { readonly platform: PlatformPart } | "rpc";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call the route; every route declares it ("rpc": the Connect interceptor checks the call). */
    access?: RouteAccess;
  }
}

export interface AuthSettings {
  readonly authenticator: Authenticator;
  /** The platform parts anyone may call (FLOWGATE_AUTH_PUBLIC). */
  readonly publicParts: ReadonlySet<PlatformPart>;
}

/** Every handler's access, read from its descriptor; throws (naming the RPC) for one that declares none. */
export function accessByMethod(handlers: readonly UniversalHandler[], publicParts: ReadonlySet<PlatformPart>): Map<DescMethod, Access> {
  return new Map(handlers.map((h) => [h.method, accessOfMethod(h.method, publicParts)]));
}

/** The interceptor that authenticates an RPC's caller and checks the scope its RPC declares. */
export function createAuthInterceptor(settings: AuthSettings, access: ReadonlyMap<DescMethod, Access>): Interceptor {
  return (next) => async (req) => {
    const needed = access.get(req.method);
    if (needed !== undefined) await admit(settings, req.header, needed, req.method.name, req.contextValues.get(kCall));
    return next(req);
  };
}

/**
 * Requires every route registered after it to declare its access and, with authentication on, checks it on
 * each request. Call it before any route is registered.
 */
export function guardRoutes(app: FastifyInstance, settings: AuthSettings): void {
  app.addHook("onRoute", (route) => {
    if (route.config?.access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no access: set config.access to { scope } or { platform }`);
    }
  });
  if (!settings.authenticator.enabled) return;
  app.addHook("onRequest", async (req: FastifyRequest) => {
    const access = req.routeOptions.config.access;
    // No route (a 404), or an RPC, which its interceptor checks.
    if (access === undefined || access === "rpc") return;
    const needed: Access = "scope" in access ? { kind: "scope", scope: access.scope } : platformAccess(access.platform, settings.publicParts);
    await admit(settings, req.headers, needed, `${req.method} ${req.routeOptions.url ?? req.url}`, callRecordOf(req));
  });
}

/**
 * Lets a call that needs `needed` through, or throws (unauthenticated, permission_denied): the one check
 * behind both the interceptor and the hook. The caller it proves goes on the call's record and logger.
 */
async function admit(settings: AuthSettings, headers: HeaderSource, needed: Access, what: string, record: CallRecord | undefined): Promise<void> {
  if (needed.kind === "public") return;
  const caller = await settings.authenticator.authenticate(headers, record?.clientCertificate);
  settings.authenticator.authorize(caller, needed, what);
  if (record === undefined) return;
  record.caller = caller.id;
  record.log = record.log.child({ caller: caller.id });
}

/** The authenticated caller of a request that is not an RPC (the compat paths); undefined with auth off. */
export function callerOf(req: FastifyRequest): string | undefined {
  return callRecordOf(req).caller;
}
