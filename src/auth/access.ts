// What a call needs before it runs: the scope its RPC declares in the contract (the flowgate.auth.v1.scope
// method option), or nothing for the platform parts an operator leaves public (health, reflection, metrics).
// Read from the descriptors once, at start-up: an application RPC without a scope stops the server from
// starting, so none can ship unguarded.
import { getOption, hasOption, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { scope as scopeOption } from "../../gen/flowgate/auth/v1/auth_pb.js";
import { AuthConfigError } from "./errors.js";

/** The parts of the server that are not application RPCs; each is public by default (FLOWGATE_AUTH_PUBLIC). */
export const PLATFORM_PARTS = ["health", "reflection", "metrics", "docs"] as const;
export type PlatformPart = (typeof PLATFORM_PARTS)[number];

/** What a call needs: a scope, any authenticated caller, or nothing. */
export type Access =
  | { readonly kind: "scope"; readonly scope: string }
  | { readonly kind: "authenticated"; readonly part: PlatformPart }
  | { readonly kind: "public"; readonly part: PlatformPart };

/** The platform services by their full name (their protos are vendored, so they carry no scope option). */
const PLATFORM_SERVICES: Readonly<Record<string, PlatformPart>> = {
  "grpc.health.v1.Health": "health",
  "grpc.reflection.v1.ServerReflection": "reflection",
  "grpc.reflection.v1alpha.ServerReflection": "reflection",
};

/** The access of a platform part: public when the operator lists it in FLOWGATE_AUTH_PUBLIC, else any caller. */
export function platformAccess(part: PlatformPart, publicParts: ReadonlySet<PlatformPart>): Access {
  return publicParts.has(part) ? { kind: "public", part } : { kind: "authenticated", part };
}

/** The access of one RPC; throws AuthConfigError for an application RPC that declares no scope. */
export function accessOfMethod(method: DescMethod, publicParts: ReadonlySet<PlatformPart>): Access {
  const part = PLATFORM_SERVICES[method.parent.typeName];
  if (part !== undefined) return platformAccess(part, publicParts);
  const scope = hasOption(method, scopeOption) ? getOption(method, scopeOption) : "";
  if (scope === "") {
    throw new AuthConfigError(
      `${method.parent.typeName}.${method.name} declares no scope: add option (flowgate.auth.v1.scope) = "<area>.<read|write|…>" to the RPC`,
    );
  }
  return { kind: "scope", scope };
}

/** Every scope the served services declare, sorted: what an API key or a token may grant. */
export function declaredScopes(services: readonly DescService[]): string[] {
  const scopes = new Set<string>();
  for (const service of services) {
    for (const method of service.methods) {
      if (hasOption(method, scopeOption)) scopes.add(getOption(method, scopeOption));
    }
  }
  return [...scopes].sort();
}
