// The only reader of process.env. One declarative table (SETTINGS) lists every setting with its default,
// parser and description; it drives loadConfig and the README's configuration section (a test fails when the
// two disagree). The Temporal connection follows the Temporal CLI's own variables and config file, read by
// @temporalio/envconfig, with Flowgate's variables as overrides. A bad value fails start-up with a message
// that names the variable.
import { statSync } from "node:fs";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import path from "node:path";
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from "@temporalio/envconfig";
import { CallbackAllowlist } from "./callbacks/allowlist.js";
import { parseS3Url } from "./files/s3-url.js";
import type { TracingSettings } from "./observability/index.js";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** TLS toward Temporal, as both the client (grpc-js) and the worker (Rust core) take it. */
export interface TemporalTls {
  readonly serverNameOverride?: string | undefined;
  readonly serverRootCACertificate?: Uint8Array | undefined;
  readonly clientCertPair?: { readonly crt: Uint8Array; readonly key: Uint8Array } | undefined;
}

/** How to reach an existing Temporal cluster. */
export interface TemporalConnectionConfig {
  readonly address: string;
  readonly namespace: string;
  /** true: TLS with the system's CAs; an object: TLS with these settings; undefined: plaintext. */
  readonly tls: TemporalTls | true | undefined;
  readonly apiKey: string | undefined;
  /** gRPC metadata sent on every call (TEMPORAL_GRPC_META_*). */
  readonly metadata: Readonly<Record<string, string>> | undefined;
  /** Which variable or profile gave the address, for messages. */
  readonly addressSource: string;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** The cluster to use; undefined runs the embedded Temporal dev server. */
  readonly temporal: TemporalConnectionConfig | undefined;
  readonly temporalNamespace: string;
  readonly taskQueue: string;
  readonly logLevel: LogLevel;
  readonly logPretty: boolean;
  readonly bodyLimitBytes: number;
  readonly runTimeoutMs: number;
  /** On close, how long calls in flight get before those still waiting are answered Unavailable. */
  readonly shutdownGraceMs: number;
  /** Calls per caller and window; undefined: no rate limit. */
  readonly rateLimit: { readonly calls: number; readonly seconds: number } | undefined;
  /** Open server streams per caller; undefined: no cap. */
  readonly maxStreamsPerCaller: number | undefined;
  /** Mean event-loop delay above which calls are shed; 0: never. */
  readonly shedEventLoopDelayMs: number;
  /** How long a connection has to send a request's headers (and finish its TLS handshake). */
  readonly headersTimeoutMs: number;
  /** How long a whole-body request's body may take to arrive after its headers. */
  readonly bodyTimeoutMs: number;
  /** Connections open at once in all, and per remote address; 0: no cap. */
  readonly maxConnections: number;
  readonly maxConnectionsPerAddress: number;
  /** Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxStreamsPerConnection: number;
  /** Where spans go (OpenTelemetry's OTLP variables); undefined: tracing off. */
  readonly tracing: TracingSettings | undefined;
  /** The workflow-types file; undefined when none is set and the default file is absent. */
  readonly workflowsFile: string | undefined;
  readonly allowUnregistered: boolean;
  readonly startWorker: boolean;
  readonly samples: boolean;
  readonly workerWorkflows: string | undefined;
  readonly workerActivities: string | undefined;
  /** The certificate served over TLS, its key, and the CA of the client certificates asked for (mTLS). */
  readonly tls: { readonly certFile: string; readonly keyFile: string; readonly clientCaFile?: string | undefined } | undefined;
  /** Grants scopes to client certificates by subject (FLOWGATE_TLS_CLIENTS_FILE); set with, and only with, a client CA. */
  readonly tlsClientsFile: string | undefined;
  /** How often the TLS files are read again, to serve renewed ones. */
  readonly tlsReloadIntervalMs: number;
  readonly devServerPort: number;
  readonly devServerUiPort: number;
  readonly temporalCli: string | undefined;
  /** The application's handler module (FLOWGATE_HANDLER); undefined: none. */
  readonly handlerModule: string | undefined;
  /** Largest uploaded file, in bytes. */
  readonly uploadMaxBytes: number;
  /** Media types UploadFile accepts ("text/csv", "image/*"); empty: any. */
  readonly uploadTypes: readonly string[];
  /** Where uploads are stored: a bucket ("s3://bucket/prefix"); undefined: `files/` under dataDir. */
  readonly filesUrl: string | undefined;
  /** PostgreSQL for configs; undefined: the embedded PGlite under dataDir. */
  readonly databaseUrl: string | undefined;
  /** Origins completion callbacks may name ("https://hooks.example.com", "https://*.example.com"); empty: off. */
  readonly callbackAllow: readonly string[];
  /** POST attempts per completion callback before its dead letter. */
  readonly callbackAttempts: number;
  /** The API keys file (FLOWGATE_API_KEYS_FILE); set: API keys are accepted and authentication is on. */
  readonly apiKeysFile: string | undefined;
  /** Where JWT signing keys are published; set: tokens are accepted and authentication is on. */
  readonly jwtJwksUrl: string | undefined;
  /** A local JWKS file, for signing keys that are not published. */
  readonly jwtKeysFile: string | undefined;
  readonly jwtIssuer: string | undefined;
  readonly jwtAudience: string | undefined;
  readonly jwtClockSkewSeconds: number;
  /** Platform parts anyone may call with authentication on: "health", "reflection", "metrics", "docs". */
  readonly authPublic: readonly ("health" | "reflection" | "metrics" | "docs")[];
  /** Origins browsers may call from ("*" for any); empty: CORS off. */
  readonly corsOrigins: readonly string[];
  /** Settings that are valid but probably not what was meant; logged at start-up. */
  readonly warnings: readonly string[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Readonly<Record<string, string | undefined>>;

/** What a parser sees besides the value: the settings parsed before it, and the environment. */
interface ParseContext {
  readonly parsed: Partial<Record<keyof Config, unknown>>;
  readonly env: Env;
  readonly cwd: string;
  /** The namespace the Temporal profile and TEMPORAL_NAMESPACE give, if any. */
  readonly profileNamespace: string | undefined;
}

/** One row of the table: a variable, the Config field it sets, its default in words, its parser, its meaning. */
interface Setting {
  readonly variable: string;
  readonly key: Exclude<keyof Config, "temporal" | "warnings">;
  /** The default as the README shows it. */
  readonly defaultText: string;
  readonly description: string;
  /** The value (undefined when the variable is unset or empty) as the Config field. */
  readonly parse: (value: string | undefined, ctx: ParseContext) => unknown;
}

const DEFAULT_WORKFLOWS_FILE = "flowgate.workflows.yaml";

/** Every Flowgate setting, in the order the README lists them. Settings whose default depends on another come after it. */
export const SETTINGS: readonly Setting[] = [
  { variable: "FLOWGATE_HOST", key: "host", defaultText: "`127.0.0.1`", description: "interface the API listens on", parse: (v) => v ?? "127.0.0.1" },
  { variable: "FLOWGATE_PORT", key: "port", defaultText: "`8000`", description: "the one port for every protocol", parse: (v) => parsePort("FLOWGATE_PORT", v, 8000) },
  {
    variable: "FLOWGATE_DATA_DIR",
    key: "dataDir",
    defaultText: "`.flowgate`",
    description: "embedded Temporal database (`temporal.sqlite`), configs (`pglite/`), uploaded files (`files/`), cached tools, the embedded worker's generated files",
    parse: (v, ctx) => path.resolve(ctx.cwd, v ?? ".flowgate"),
  },
  {
    variable: "FLOWGATE_TEMPORAL_NAMESPACE",
    key: "temporalNamespace",
    defaultText: "`TEMPORAL_NAMESPACE`, the profile's, else `default`",
    description: "Temporal namespace; overrides `TEMPORAL_NAMESPACE` and the profile",
    // The address override is read with the rest of the connection (resolveTemporal).
    parse: (v, ctx) => v ?? ctx.profileNamespace ?? "default",
  },
  {
    variable: "FLOWGATE_TASK_QUEUE",
    key: "taskQueue",
    defaultText: "`flowgate`",
    description: "task queue for workflow types that name none; the embedded worker polls it",
    parse: (v) => v ?? "flowgate",
  },
  {
    variable: "FLOWGATE_WORKFLOWS_FILE",
    key: "workflowsFile",
    defaultText: `\`${DEFAULT_WORKFLOWS_FILE}\` when present`,
    description: "workflow-types file (YAML or JSON) listing the types the API may start, with their schemas",
    parse: (v, ctx) => (v !== undefined ? path.resolve(ctx.cwd, v) : undefined),
  },
  {
    variable: "FLOWGATE_ALLOW_UNREGISTERED",
    key: "allowUnregistered",
    defaultText: "`false`",
    description: "start any workflow type, registered or not (unregistered ones get no input check)",
    parse: (v) => parseBool("FLOWGATE_ALLOW_UNREGISTERED", v, false),
  },
  {
    variable: "FLOWGATE_START_WORKER",
    key: "startWorker",
    defaultText: "`true` when embedded, else `false`",
    description: "whether `npm start` runs a worker process (the samples and `FLOWGATE_WORKER_WORKFLOWS`)",
    parse: (v, ctx) => parseBool("FLOWGATE_START_WORKER", v, ctx.parsed.temporal === undefined),
  },
  {
    variable: "FLOWGATE_SAMPLES",
    key: "samples",
    defaultText: "`true` when the embedded worker runs on the embedded Temporal, else `false`",
    description: "register the sample workflows (`greet`, `sleep`, `shopping`, `approval`, `report`) and run them in the embedded worker",
    parse: (v, ctx) => parseBool("FLOWGATE_SAMPLES", v, ctx.parsed.startWorker === true && ctx.parsed.temporal === undefined),
  },
  {
    variable: "FLOWGATE_WORKER_WORKFLOWS",
    key: "workerWorkflows",
    defaultText: "unset",
    description: "your workflows module (`.ts` or `.js`); the embedded worker bundles it beside the samples (or alone, with `FLOWGATE_SAMPLES=false`)",
    parse: (v, ctx) => (v !== undefined ? path.resolve(ctx.cwd, v) : undefined),
  },
  {
    variable: "FLOWGATE_WORKER_ACTIVITIES",
    key: "workerActivities",
    defaultText: "unset",
    description: "your activities module; its exported functions are the embedded worker's activities",
    parse: (v, ctx) => (v !== undefined ? path.resolve(ctx.cwd, v) : undefined),
  },
  {
    variable: "FLOWGATE_HANDLER",
    key: "handlerModule",
    defaultText: "unset: the handler RPCs answer unimplemented",
    description:
      "your handler module (`.ts` or `.js`) exporting `testAuth`, `fetchMetadata` and/or `preflightCheck`, which `POST /workflows/v1/auth`, `/metadata` and `/check` call",
    parse: (v, ctx) => (v !== undefined ? path.resolve(ctx.cwd, v) : undefined),
  },
  {
    variable: "FLOWGATE_UPLOAD_MAX_BYTES",
    key: "uploadMaxBytes",
    defaultText: "`268435456` (256 MiB)",
    description: "largest file UploadFile (`POST /workflows/v1/file`) stores; larger ones are refused (413 on REST) and nothing is kept",
    parse: (v) => parseInteger("FLOWGATE_UPLOAD_MAX_BYTES", v, 256 * 1024 * 1024, 1),
  },
  {
    variable: "FLOWGATE_UPLOAD_TYPES",
    key: "uploadTypes",
    defaultText: "unset: any",
    description: "media types UploadFile accepts, comma-separated (`text/csv,application/json,image/*`); others are invalid_argument",
    parse: (v) => {
      const types = parseList(v).map((t) => t.toLowerCase());
      const bad = types.find((t) => !/^[a-z0-9!#$&^_.+-]+\/([a-z0-9!#$&^_.+-]+|\*)$/.test(t));
      if (bad !== undefined) throw new ConfigError(`FLOWGATE_UPLOAD_TYPES: "${bad}" is not a media type (type/subtype, or type/*)`);
      return types;
    },
  },
  {
    variable: "FLOWGATE_FILES_URL",
    key: "filesUrl",
    defaultText: "unset: `<data dir>/files`",
    description:
      "where uploaded files are stored: `s3://bucket[/prefix]` for an S3 bucket (any S3 API: AWS, MinIO, R2), reached with the standard `AWS_*` variables (a custom `AWS_ENDPOINT_URL_S3` is addressed path-style)",
    parse: (v) => {
      if (v === undefined || v === "") return undefined;
      try {
        parseS3Url(v);
      } catch (err) {
        throw new ConfigError(`FLOWGATE_FILES_URL: ${(err as Error).message}`);
      }
      return v;
    },
  },
  {
    variable: "FLOWGATE_CALLBACK_ALLOW",
    key: "callbackAllow",
    defaultText: "unset: callbacks off",
    description:
      "origins a start's completion callback may name, comma-separated (`https://hooks.example.com,https://*.example.com`); others are invalid_argument",
    parse: (v) => {
      const origins = parseList(v);
      for (const origin of origins) {
        try {
          new CallbackAllowlist([origin]);
        } catch (err) {
          throw new ConfigError(`FLOWGATE_CALLBACK_ALLOW: ${(err as Error).message}`);
        }
      }
      return origins;
    },
  },
  {
    variable: "FLOWGATE_CALLBACK_ATTEMPTS",
    key: "callbackAttempts",
    defaultText: "`10`",
    description: "POST attempts per completion callback (backoff from 1 s, doubling, at most 5 min apart) before a dead letter is recorded",
    parse: (v) => parseInteger("FLOWGATE_CALLBACK_ATTEMPTS", v, 10, 1),
  },
  {
    variable: "FLOWGATE_API_KEYS_FILE",
    key: "apiKeysFile",
    defaultText: "unset",
    description:
      "YAML or JSON file of API keys (`keys: [{name, sha256, scopes}]`, the key's SHA-256, never the key); set, authentication is on and keys are accepted as `Authorization: Bearer <key>` or `x-api-key`",
    parse: (v, ctx) => (v !== undefined ? path.resolve(ctx.cwd, v) : undefined),
  },
  {
    variable: "FLOWGATE_JWT_JWKS_URL",
    key: "jwtJwksUrl",
    defaultText: "unset",
    description: "URL of the identity provider's JSON Web Key Set; set, authentication is on and JWT bearer tokens are accepted",
    parse: (v) => {
      if (v === undefined) return undefined;
      if (!URL.canParse(v) || !/^https?:$/.test(new URL(v).protocol)) throw new ConfigError(`FLOWGATE_JWT_JWKS_URL: "${v}" is not an http(s) URL`);
      return v;
    },
  },
  {
    variable: "FLOWGATE_JWT_KEYS_FILE",
    key: "jwtKeysFile",
    defaultText: "unset",
    description: "a local JWKS file (`{\"keys\": [...]}`) of the token signing keys, in place of `FLOWGATE_JWT_JWKS_URL`",
    parse: (v, ctx) => {
      if (v !== undefined && ctx.parsed.jwtJwksUrl !== undefined) throw new ConfigError("FLOWGATE_JWT_KEYS_FILE and FLOWGATE_JWT_JWKS_URL: set one, not both");
      return v !== undefined ? path.resolve(ctx.cwd, v) : undefined;
    },
  },
  {
    variable: "FLOWGATE_JWT_ISSUER",
    key: "jwtIssuer",
    defaultText: "unset: any",
    description: "the `iss` a token must carry",
    parse: (v) => v,
  },
  {
    variable: "FLOWGATE_JWT_AUDIENCE",
    key: "jwtAudience",
    defaultText: "unset: any",
    description: "the `aud` a token must carry (set it: a token issued for another service is otherwise accepted)",
    parse: (v) => v,
  },
  {
    variable: "FLOWGATE_JWT_CLOCK_SKEW",
    key: "jwtClockSkewSeconds",
    defaultText: "`30s`",
    description: "clock difference tolerated on a token's `exp` and `nbf`",
    parse: (v) => Math.round(parseDuration("FLOWGATE_JWT_CLOCK_SKEW", v, 30_000) / 1000),
  },
  {
    variable: "FLOWGATE_AUTH_PUBLIC",
    key: "authPublic",
    defaultText: "`health,reflection,metrics,docs`",
    description:
      "with authentication on, the platform parts anyone may call: `health` (probes, `grpc.health.v1`), `reflection`, `metrics`, `docs` (`/openapi.json`, `/docs`); `none` for none (the others then need any valid credential)",
    parse: (v) => {
      if (v === undefined) return ["health", "reflection", "metrics", "docs"];
      if (v.toLowerCase() === "none") return [];
      const parts = parseList(v);
      const bad = parts.find((p) => !["health", "reflection", "metrics", "docs"].includes(p));
      if (bad !== undefined) throw new ConfigError(`FLOWGATE_AUTH_PUBLIC: "${bad}" is not health, reflection, metrics or docs (or none)`);
      return parts;
    },
  },
  {
    variable: "FLOWGATE_CORS_ORIGINS",
    key: "corsOrigins",
    defaultText: "unset: CORS off",
    description:
      "origins browser pages may call from, comma-separated (`https://app.example.com,http://localhost:5173`), or `*` for any; the headers Connect, gRPC-Web and REST need are allowed and exposed",
    parse: (v) => {
      const origins = parseList(v);
      for (const origin of origins) {
        if (origin === "*") continue;
        let url: URL | undefined;
        try {
          url = new URL(origin);
        } catch {
          url = undefined;
        }
        if (url === undefined || !/^https?:$/.test(url.protocol) || url.origin !== origin) {
          throw new ConfigError(`FLOWGATE_CORS_ORIGINS: "${origin}" is not an origin (scheme://host[:port], no path or trailing slash), nor *`);
        }
      }
      return origins;
    },
  },
  {
    variable: "FLOWGATE_DATABASE_URL",
    key: "databaseUrl",
    defaultText: "unset: embedded PGlite in `<data dir>/pglite`",
    description:
      "PostgreSQL for stored configs (`postgres://user:password@host:5432/db?sslmode=require`), shared by every replica; its schema is migrated at start-up",
    parse: (v) => {
      if (v === undefined) return undefined;
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        throw new ConfigError("FLOWGATE_DATABASE_URL: not a URL (expected postgres://user:password@host:5432/database)");
      }
      if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
        throw new ConfigError(`FLOWGATE_DATABASE_URL: "${url.protocol}" is not postgres: or postgresql:`);
      }
      return v;
    },
  },
  {
    variable: "FLOWGATE_LOG_LEVEL",
    key: "logLevel",
    defaultText: "`info`",
    description: "`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`",
    parse: (v) => parseLogLevel(v),
  },
  {
    variable: "FLOWGATE_LOG_PRETTY",
    key: "logPretty",
    defaultText: "`true` at a terminal, else `false`",
    description: "human-readable logs instead of JSON lines",
    parse: (v, ctx) => parseBool("FLOWGATE_LOG_PRETTY", v, process.stdout.isTTY === true && ctx.env.CI === undefined),
  },
  {
    variable: "FLOWGATE_BODY_LIMIT",
    key: "bodyLimitBytes",
    defaultText: "`4194304`",
    description: "largest request body in bytes, on every protocol",
    parse: (v) => parseInteger("FLOWGATE_BODY_LIMIT", v, 4 * 1024 * 1024, 1024),
  },
  {
    variable: "FLOWGATE_RUN_TIMEOUT",
    key: "runTimeoutMs",
    defaultText: "`60s`",
    description: "bound of RunWorkflow when the call sets no deadline (`ms`, `s`, `m`, `h`)",
    parse: (v) => parseDuration("FLOWGATE_RUN_TIMEOUT", v, 60_000),
  },
  {
    variable: "FLOWGATE_SHUTDOWN_GRACE",
    key: "shutdownGraceMs",
    defaultText: "`10s`",
    description:
      "on SIGTERM, how long calls in flight get to finish; readiness turns false and new calls are refused with `unavailable` at once, and calls still waiting at the end answer `unavailable` naming their run",
    parse: (v) => parseDuration("FLOWGATE_SHUTDOWN_GRACE", v, 10_000),
  },
  {
    variable: "FLOWGATE_RATE_LIMIT",
    key: "rateLimit",
    defaultText: "unset: none",
    description:
      "calls each caller may make per second, minute or hour on this replica (`100/s`, `3000/m`); the authenticated caller, or the remote address with authentication off. Over it: `resource_exhausted` (429) with `Retry-After`",
    parse: (v) => parseRate("FLOWGATE_RATE_LIMIT", v),
  },
  {
    variable: "FLOWGATE_MAX_STREAMS_PER_CALLER",
    key: "maxStreamsPerCaller",
    defaultText: "unset: none",
    description: "server streams (watches) each caller may have open at once on this replica; one more is `resource_exhausted`",
    parse: (v) => (v === undefined ? undefined : parseInteger("FLOWGATE_MAX_STREAMS_PER_CALLER", v, 0, 1)),
  },
  {
    variable: "FLOWGATE_SHED_EVENT_LOOP_DELAY",
    key: "shedEventLoopDelayMs",
    defaultText: "`500ms`",
    description:
      "mean event-loop delay (over each second) above which new calls are refused with `unavailable` (503) until it falls, so calls already admitted finish in time; `0` turns shedding off. Probes and metrics are still answered",
    parse: (v) => (v === "0" ? 0 : parseDuration("FLOWGATE_SHED_EVENT_LOOP_DELAY", v, 500)),
  },
  {
    variable: "FLOWGATE_HEADERS_TIMEOUT",
    key: "headersTimeoutMs",
    defaultText: "`30s`",
    description:
      "how long a connection has to send a request's headers, and to finish its TLS handshake; then it is closed (HTTP/1.1 with 408), so a client trickling its headers cannot hold it",
    parse: (v) => parseDuration("FLOWGATE_HEADERS_TIMEOUT", v, 30_000),
  },
  {
    variable: "FLOWGATE_BODY_TIMEOUT",
    key: "bodyTimeoutMs",
    defaultText: "`60s`",
    description:
      "how long a request body read whole (every unary call and server stream, REST included) may take to arrive after its headers; a slower one is answered `deadline_exceeded` (REST 408) and its connection or stream closed. Client streams and uploads are bounded by their deadline instead",
    parse: (v) => parseDuration("FLOWGATE_BODY_TIMEOUT", v, 60_000),
  },
  {
    variable: "FLOWGATE_MAX_CONNECTIONS",
    key: "maxConnections",
    defaultText: "`0`: no cap",
    description: "connections open at once on the port; one more is closed as soon as it is accepted, and counted in `flowgate_connections_refused_total`",
    parse: (v) => parseInteger("FLOWGATE_MAX_CONNECTIONS", v, 0, 0),
  },
  {
    variable: "FLOWGATE_MAX_CONNECTIONS_PER_ADDRESS",
    key: "maxConnectionsPerAddress",
    defaultText: "`0`: no cap",
    description:
      "connections open at once from one remote address; one more is closed as soon as it is accepted. Behind a load balancer or proxy every connection comes from its addresses: set it only where clients connect directly",
    parse: (v) => parseInteger("FLOWGATE_MAX_CONNECTIONS_PER_ADDRESS", v, 0, 0),
  },
  {
    variable: "FLOWGATE_MAX_STREAMS_PER_CONNECTION",
    key: "maxStreamsPerConnection",
    defaultText: "`250`",
    description:
      "streams one HTTP/2 connection may have open at once, advertised to clients as `SETTINGS_MAX_CONCURRENT_STREAMS` (gRPC clients queue the calls over it, or open another connection)",
    parse: (v) => parseInteger("FLOWGATE_MAX_STREAMS_PER_CONNECTION", v, 250, 1),
  },
  {
    variable: "OTEL_EXPORTER_OTLP_ENDPOINT",
    key: "tracing",
    defaultText: "unset: tracing off",
    description:
      "OTLP/HTTP endpoint of a collector (`http://collector:4318`); spans go to its `/v1/traces`. Set, every call gets a server span, child of the caller's W3C `traceparent`, and the Temporal calls that start or signal a run a client span carried to the workflow (`_tracer-data`, as @temporalio/interceptors-opentelemetry reads it)",
    parse: (v, ctx) => {
      const endpoint = read(ctx.env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? (v === undefined ? undefined : `${v.replace(/\/+$/, "")}/v1/traces`);
      if (endpoint === undefined) return undefined;
      if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
        throw new ConfigError(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://collector:4318, got "${endpoint}"`);
      }
      return { endpoint, serviceName: read(ctx.env, "OTEL_SERVICE_NAME") ?? "flowgate", headers: parseOtlpHeaders(read(ctx.env, "OTEL_EXPORTER_OTLP_HEADERS")) };
    },
  },
  {
    variable: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    key: "tracing",
    defaultText: "unset",
    description: "the full traces URL, used as it is instead of `OTEL_EXPORTER_OTLP_ENDPOINT`'s `/v1/traces`",
    parse: (_v, ctx) => ctx.parsed.tracing,
  },
  {
    variable: "OTEL_SERVICE_NAME",
    key: "tracing",
    defaultText: "`flowgate`",
    description: "`service.name` of Flowgate's spans",
    parse: (_v, ctx) => ctx.parsed.tracing,
  },
  {
    variable: "OTEL_EXPORTER_OTLP_HEADERS",
    key: "tracing",
    defaultText: "unset",
    description: "headers sent with every export, `name=value` pairs separated by commas (a tracing backend's API key)",
    parse: (_v, ctx) => ctx.parsed.tracing,
  },
  {
    variable: "FLOWGATE_TLS_CERT_FILE",
    key: "tls",
    defaultText: "unset: cleartext only",
    description: "PEM certificate; with `FLOWGATE_TLS_KEY_FILE`, TLS (h2 and http/1.1 by ALPN) is served on the same port, beside cleartext",
    parse: (certFile, ctx) => {
      const keyFile = read(ctx.env, "FLOWGATE_TLS_KEY_FILE");
      if ((certFile === undefined) !== (keyFile === undefined)) {
        throw new ConfigError(
          `FLOWGATE_TLS_CERT_FILE and FLOWGATE_TLS_KEY_FILE go together, but only ${certFile ? "FLOWGATE_TLS_CERT_FILE" : "FLOWGATE_TLS_KEY_FILE"} is set`,
        );
      }
      return certFile && keyFile ? { certFile, keyFile } : undefined;
    },
  },
  {
    variable: "FLOWGATE_TLS_KEY_FILE",
    key: "tls",
    defaultText: "unset",
    description: "PEM private key of `FLOWGATE_TLS_CERT_FILE`",
    parse: (_v, ctx) => ctx.parsed.tls,
  },
  {
    variable: "FLOWGATE_TLS_CLIENT_CA_FILE",
    key: "tls",
    defaultText: "unset: no client certificates",
    description:
      "PEM certificate(s) of the CA that signs client certificates (mTLS); set, TLS clients are asked for one, and a verified one whose subject `FLOWGATE_TLS_CLIENTS_FILE` lists authenticates its caller (authentication is then on). A client may still connect without one: its calls need another credential. Needs `FLOWGATE_TLS_CERT_FILE`",
    parse: (v, ctx) => {
      if (v === undefined) return ctx.parsed.tls;
      if (ctx.parsed.tls === undefined) throw new ConfigError("FLOWGATE_TLS_CLIENT_CA_FILE needs FLOWGATE_TLS_CERT_FILE and FLOWGATE_TLS_KEY_FILE: client certificates are asked for over TLS");
      return { ...(ctx.parsed.tls as object), clientCaFile: path.resolve(ctx.cwd, v) };
    },
  },
  {
    variable: "FLOWGATE_TLS_CLIENTS_FILE",
    key: "tlsClientsFile",
    defaultText: "unset",
    description:
      "YAML or JSON file granting scopes to client certificates, as the API keys file grants them to keys: `clients: [{name, subject, scopes}]`, `subject` the certificate's CN or one of its SANs (`name` when absent); the caller is `cert:<name>`. Only `clients:` is read, so it may be the API keys file. Goes with `FLOWGATE_TLS_CLIENT_CA_FILE`",
    parse: (v, ctx) => {
      const clientCa = (ctx.parsed.tls as Config["tls"])?.clientCaFile;
      if (v === undefined && clientCa !== undefined) {
        throw new ConfigError("FLOWGATE_TLS_CLIENT_CA_FILE is set, but FLOWGATE_TLS_CLIENTS_FILE is not: list the client certificates' subjects and the scopes each is granted");
      }
      if (v !== undefined && clientCa === undefined) throw new ConfigError("FLOWGATE_TLS_CLIENTS_FILE needs FLOWGATE_TLS_CLIENT_CA_FILE, the CA that signs the client certificates");
      return v === undefined ? undefined : path.resolve(ctx.cwd, v);
    },
  },
  {
    variable: "FLOWGATE_TLS_RELOAD_INTERVAL",
    key: "tlsReloadIntervalMs",
    defaultText: "`10s`",
    description:
      "how often the TLS certificate, key and client CA files are read again: changed and usable, they are served to new connections (open ones keep theirs); unusable (a key that does not match, a half-written file), they are logged and the previous ones kept",
    // Renewals come weeks before expiry, and the kubelet takes a minute or two to update a mounted Secret:
    // seconds more change nothing, and reading two or three small files every 10 s costs nothing either.
    parse: (v) => parseDuration("FLOWGATE_TLS_RELOAD_INTERVAL", v, 10_000),
  },
  {
    variable: "FLOWGATE_TEMPORAL_DEV_PORT",
    key: "devServerPort",
    defaultText: "`7233`",
    description: "frontend port of the embedded dev server",
    parse: (v) => parsePort("FLOWGATE_TEMPORAL_DEV_PORT", v, 7233),
  },
  {
    variable: "FLOWGATE_TEMPORAL_UI_PORT",
    key: "devServerUiPort",
    defaultText: "`8233`",
    description: "web UI port of the embedded dev server; `0` runs it headless",
    parse: (v) => parsePort("FLOWGATE_TEMPORAL_UI_PORT", v, 8233),
  },
  {
    variable: "TEMPORAL_CLI",
    key: "temporalCli",
    defaultText: "unset: pinned CLI in `.flowgate/tools`",
    description: "path of a Temporal CLI binary for the embedded dev server",
    parse: (v) => v,
  },
];

/**
 * The Temporal connection variables, read as the Temporal CLI and SDKs read them (by @temporalio/envconfig,
 * from the environment and the profile of a TOML config file). Listed here for the README.
 */
export const TEMPORAL_VARIABLES: readonly { readonly variable: string; readonly description: string }[] = [
  { variable: "`FLOWGATE_TEMPORAL_ADDRESS` (overrides `TEMPORAL_ADDRESS`)", description: "`host:port` of an existing Temporal frontend; unset everywhere: the embedded dev server" },
  { variable: "`TEMPORAL_NAMESPACE`", description: "namespace (`FLOWGATE_TEMPORAL_NAMESPACE` overrides it)" },
  { variable: "`TEMPORAL_API_KEY`", description: "API key sent as a bearer token (Temporal Cloud); turns TLS on" },
  { variable: "`TEMPORAL_TLS`", description: "`true` for TLS with the system's CAs, `false` to force plaintext" },
  { variable: "`TEMPORAL_TLS_SERVER_CA_CERT_PATH` / `_DATA`", description: "CA that signed the server's certificate (PEM file or text)" },
  { variable: "`TEMPORAL_TLS_CLIENT_CERT_PATH` / `_DATA`, `TEMPORAL_TLS_CLIENT_KEY_PATH` / `_DATA`", description: "client certificate and key, for mTLS" },
  { variable: "`TEMPORAL_TLS_SERVER_NAME`", description: "name to verify in the server's certificate, when it differs from the address" },
  { variable: "`TEMPORAL_GRPC_META_<NAME>`", description: "extra gRPC metadata sent on every call" },
  { variable: "`TEMPORAL_PROFILE`, `TEMPORAL_CONFIG_FILE`", description: "profile (default `default`) and file (default `~/.config/temporalio/temporal.toml`) to read the above from; variables win over the file" },
];

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === "" ? undefined : value;
}

/** Parses the configuration from an environment (process.env by default). Throws ConfigError. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const parsed: Partial<Record<keyof Config, unknown>> = {};
  // The connection first: other defaults (the worker, the samples) depend on whether it is embedded.
  const { connection, profileNamespace, warnings } = resolveTemporal(env);
  parsed.temporal = connection;
  parsed.warnings = warnings;
  for (const setting of SETTINGS) {
    parsed[setting.key] = setting.parse(read(env, setting.variable), { parsed, env, cwd, profileNamespace });
  }
  if (parsed.temporal !== undefined) {
    parsed.temporal = { ...(parsed.temporal as TemporalConnectionConfig), namespace: parsed.temporalNamespace as string };
  }
  if (parsed.workflowsFile === undefined) {
    // The default file counts only when it is there; an explicitly named file must exist (checked at start-up).
    const candidate = path.resolve(cwd, DEFAULT_WORKFLOWS_FILE);
    parsed.workflowsFile = existsSyncSafe(candidate) ? candidate : undefined;
  }
  return Object.freeze(parsed as Config);
}

/** The variables that configure TLS or credentials toward Temporal, which need an address to apply to. */
const CONNECTION_VARIABLES = [
  "TEMPORAL_API_KEY",
  "TEMPORAL_TLS",
  "TEMPORAL_TLS_CLIENT_CERT_PATH",
  "TEMPORAL_TLS_CLIENT_CERT_DATA",
  "TEMPORAL_TLS_CLIENT_KEY_PATH",
  "TEMPORAL_TLS_CLIENT_KEY_DATA",
  "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
  "TEMPORAL_TLS_SERVER_CA_CERT_DATA",
  "TEMPORAL_TLS_SERVER_NAME",
];

/**
 * The existing cluster to use, or undefined for the embedded dev server: the Temporal CLI's profile and
 * variables (envconfig), then FLOWGATE_TEMPORAL_ADDRESS over the address. Certificates are read and checked
 * here, so a missing or malformed file fails start-up naming its variable.
 */
function resolveTemporal(env: Env): { connection: TemporalConnectionConfig | undefined; profileNamespace: string | undefined; warnings: string[] } {
  // Trimmed: a secret mounted from a file often ends in a line break, which gRPC refuses in a header.
  const envVars: Record<string, string> = {};
  for (const name of Object.keys(env)) {
    const value = read(env, name);
    if (value !== undefined) envVars[name] = value;
  }
  // envconfig takes only "1" and "true"; any other spelling would silently mean plaintext.
  if (envVars.TEMPORAL_TLS !== undefined) envVars.TEMPORAL_TLS = String(parseBool("TEMPORAL_TLS", envVars.TEMPORAL_TLS, false));
  const noHostCheck = envVars.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION;
  if (noHostCheck !== undefined && parseBool("TEMPORAL_TLS_DISABLE_HOST_VERIFICATION", noHostCheck, false)) {
    throw new ConfigError(
      "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK Flowgate uses; " +
        "set TEMPORAL_TLS_SERVER_NAME to the name the server's certificate carries instead",
    );
  }
  const configFile = envVars.TEMPORAL_CONFIG_FILE;
  // envconfig skips a missing file silently, which would quietly run the embedded Temporal instead.
  if (configFile !== undefined && !existsSyncSafe(configFile)) throw new ConfigError(`TEMPORAL_CONFIG_FILE: there is no file "${configFile}"`);
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: envVars });
  } catch (err) {
    // envconfig 1.24 fails with a TypeError on a config file that holds no [profile.*] table at all.
    if (!(err instanceof TypeError)) throw new ConfigError(describeProfileError(err, envVars));
    if (envVars.TEMPORAL_PROFILE !== undefined) {
      throw new ConfigError(`TEMPORAL_PROFILE: Profile '${envVars.TEMPORAL_PROFILE}' not found: the Temporal config file defines no profiles`);
    }
    profile = loadClientConfigProfile({ overrideEnvVars: envVars, disableFile: true });
  }
  const profileName = `profile "${envVars.TEMPORAL_PROFILE ?? "default"}"`;
  for (const [name, value] of [["TEMPORAL_API_KEY", profile.apiKey], ...Object.entries(profile.grpcMeta ?? {}).map(([k, v]) => [`gRPC metadata "${k}"`, v])]) {
    // eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
    if (value !== undefined && /[\x00-\x1f\x7f]/.test(value)) throw new ConfigError(`${name} contains a control character (a line break?); remove it`);
  }
  const override = envVars.FLOWGATE_TEMPORAL_ADDRESS;
  const address = override ?? profile.address;
  const addressSource =
    override !== undefined ? "FLOWGATE_TEMPORAL_ADDRESS" : envVars.TEMPORAL_ADDRESS !== undefined ? "TEMPORAL_ADDRESS" : `${profileName} of the Temporal config file`;
  const credentials = profile.apiKey !== undefined || (profile.tls !== undefined && profile.tls.disabled !== true);
  if (address === undefined) {
    // Credentials with no cluster to use them on are a mistake to report, not to send to the embedded server.
    const stray = CONNECTION_VARIABLES.find((name) => envVars[name] !== undefined && !(name === "TEMPORAL_TLS" && envVars[name] === "false")) ?? (credentials ? profileName : undefined);
    if (stray !== undefined) {
      throw new ConfigError(
        `${stray} configures a Temporal connection, but no address is set: set TEMPORAL_ADDRESS (or FLOWGATE_TEMPORAL_ADDRESS) to the cluster's host:port, or unset ${stray} to run the embedded Temporal`,
      );
    }
    return { connection: undefined, profileNamespace: profile.namespace, warnings: [] };
  }
  if (!/^(?:[^\s:/[\]]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/.test(address)) {
    throw new ConfigError(`${addressSource} must be host:port (such as temporal.internal:7233 or [::1]:7233), got "${address}"`);
  }
  const warnings: string[] = [];
  if (override !== undefined && credentials && envVars.TEMPORAL_API_KEY === undefined && envVars.TEMPORAL_TLS === undefined) {
    warnings.push(
      `FLOWGATE_TEMPORAL_ADDRESS=${override} replaces the address of ${profileName}, whose TLS and API key settings still apply to it; ` +
        "set TEMPORAL_PROFILE to a profile meant for that address if they should not",
    );
  }
  if ((profile.tls?.clientCert === undefined) !== (profile.tls?.clientKey === undefined)) {
    throw new ConfigError("TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or their _DATA forms) go together, but only one is set");
  }
  let options;
  try {
    options = toClientOptions({ ...profile, address }).connectionOptions;
  } catch (err) {
    const { path: file } = err as { path?: string };
    const variable = CONNECTION_VARIABLES.find((name) => file !== undefined && envVars[name] === file);
    throw new ConfigError(`${variable ?? "Temporal TLS settings"}: cannot read ${file ? `"${file}"` : "a certificate"}: ${(err as Error).message}`);
  }
  const tls = options.tls === false || options.tls === undefined || options.tls === null ? undefined : options.tls === true ? true : toTls(options.tls);
  if (tls !== undefined && tls !== true) checkPem(tls);
  const connection: TemporalConnectionConfig = {
    address,
    namespace: "default", // set by loadConfig once FLOWGATE_TEMPORAL_NAMESPACE is read
    tls,
    apiKey: typeof options.apiKey === "string" ? options.apiKey : undefined,
    metadata: options.metadata as Record<string, string> | undefined,
    addressSource,
  };
  return { connection, profileNamespace: profile.namespace, warnings };
}

/** envconfig's failure as a message naming where to look (never the file's text, which may hold a key). */
function describeProfileError(err: unknown, envVars: Readonly<Record<string, string>>): string {
  const message = ((err as Error).message ?? String(err)).split("\n")[0]!;
  if (message.startsWith("Profile '")) return `TEMPORAL_PROFILE: ${message}`;
  if ((err as Error).name === "TomlError" || /\bTOML\b/.test(message)) {
    return `the Temporal config file ${envVars.TEMPORAL_CONFIG_FILE ?? "(~/.config/temporalio/temporal.toml)"} is not valid TOML: ${message}`;
  }
  return `Temporal connection settings: ${message}`;
}

/** A CA, certificate or key that is not PEM, or a key that does not match its certificate, named by its variable. */
function checkPem(settings: TemporalTls): void {
  const check = (what: string, options: SecureContextOptions) => {
    try {
      createSecureContext(options);
    } catch (err) {
      throw new ConfigError(`${what}: ${(err as Error).message}`);
    }
  };
  if (settings.serverRootCACertificate !== undefined) {
    const ca = Buffer.from(settings.serverRootCACertificate);
    if (!ca.toString("latin1").includes("-----BEGIN CERTIFICATE-----")) {
      throw new ConfigError("TEMPORAL_TLS_SERVER_CA_CERT_PATH (or _DATA): not a PEM certificate");
    }
    check("TEMPORAL_TLS_SERVER_CA_CERT_PATH (or _DATA)", { ca });
  }
  if (settings.clientCertPair !== undefined) {
    check("TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or their _DATA forms)", {
      cert: Buffer.from(settings.clientCertPair.crt),
      key: Buffer.from(settings.clientCertPair.key),
    });
  }
}

function toTls(tls: TemporalTls): TemporalTls {
  return { serverNameOverride: tls.serverNameOverride, serverRootCACertificate: tls.serverRootCACertificate, clientCertPair: tls.clientCertPair };
}

function existsSyncSafe(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function parsePort(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${name} must be a port number from 0 to 65535, got "${value}"`);
  }
  return port;
}

/** A comma-separated list, its items trimmed, empty ones dropped; unset: none. */
function parseList(value: string | undefined): string[] {
  return (value ?? "").split(",").map((item) => item.trim()).filter((item) => item !== "");
}

/** OTEL_EXPORTER_OTLP_HEADERS: `name=value` pairs separated by commas, values percent-encoded (the OTLP spec). */
function parseOtlpHeaders(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const headers: Record<string, string> = {};
  for (const pair of value.split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new ConfigError(`OTEL_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas, got "${pair.trim()}"`);
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

function parseInteger(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(`${name} must be a whole number of at least ${min}, got "${value}"`);
  }
  return n;
}

const RATE_WINDOWS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/** "100/s", "3000/m", "50000/h": calls per window; unset: none. */
function parseRate(name: string, value: string | undefined): { calls: number; seconds: number } | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)\s*\/\s*(s|m|h)$/.exec(value.trim());
  if (match === null || Number(match[1]) < 1) throw new ConfigError(`${name} must be calls per window such as 100/s, 3000/m or 50000/h, got "${value}"`);
  return { calls: Number(match[1]), seconds: RATE_WINDOWS[match[2]!]! };
}

function parseBool(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined) return "info";
  const level = value.toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) {
    throw new ConfigError(`FLOWGATE_LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
  }
  return level;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1500ms", "30s", "5m", "1h" (or a bare number of milliseconds) in milliseconds; undefined when malformed. */
export function parseDurationText(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text);
  return match === null ? undefined : Math.round(Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"]!);
}

function parseDuration(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = parseDurationText(value);
  if (ms === undefined) throw new ConfigError(`${name} must be a duration such as 30s, 5m or 1500ms, got "${value}"`);
  if (ms <= 0) throw new ConfigError(`${name} must be longer than zero, got "${value}"`);
  return ms;
}

/** The README's configuration section, rendered from the tables above. */
export function renderConfigurationDocs(): string {
  const escape = (text: string) => text.replaceAll("|", "\\|");
  const flowgate = SETTINGS.map((s) => `| \`${s.variable}\` | ${escape(s.defaultText)} | ${escape(s.description)} |`);
  const temporal = TEMPORAL_VARIABLES.map((t) => `| ${t.variable} | ${escape(t.description)} |`);
  return [
    "| variable | default | meaning |",
    "|---|---|---|",
    ...flowgate,
    "",
    "The Temporal connection is read as the Temporal CLI reads it ([environment configuration](https://docs.temporal.io/develop/environment-configuration)):",
    "",
    "| variable | meaning |",
    "|---|---|",
    ...temporal,
  ].join("\n");
}
