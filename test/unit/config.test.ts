import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, renderConfigurationDocs, SETTINGS } from "../../src/config.js";
import { makeTestCerts, type TestCerts } from "../helpers/certs.js";
import { REPO_ROOT } from "../helpers/tools.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "flowgate-config-"));
let certs: TestCerts;
beforeAll(async () => {
  certs = await makeTestCerts();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (certs) rmSync(certs.dir, { recursive: true, force: true });
});
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("loadConfig", () => {
  it("has a default for every option", () => {
    const config = loadConfig({}, dir);
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8000,
      temporal: undefined, // the embedded dev server
      temporalNamespace: "default",
      taskQueue: "flowgate",
      logLevel: "info",
      bodyLimitBytes: 4 * 1024 * 1024,
      runTimeoutMs: 60_000,
      workflowsFile: undefined,
      allowUnregistered: false,
      startWorker: true,
      samples: true,
      workerWorkflows: undefined,
      workerActivities: undefined,
      devServerPort: 7233,
      devServerUiPort: 8233,
    });
    expect(config.dataDir).toBe(path.join(dir, ".flowgate"));
  });

  it("reads the standard TEMPORAL_* variables, with FLOWGATE_* taking precedence", () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_NAMESPACE: "prod" }, dir);
    expect(config).toMatchObject({
      temporal: { address: "t:7233", namespace: "prod", tls: undefined, apiKey: undefined, addressSource: "TEMPORAL_ADDRESS" },
      temporalNamespace: "prod",
      startWorker: false, // an existing cluster has its own workers
      samples: false, // and the samples are not registered unless asked for
    });
    const overridden = loadConfig({ TEMPORAL_ADDRESS: "t:7233", FLOWGATE_TEMPORAL_ADDRESS: "f:7233", TEMPORAL_NAMESPACE: "a", FLOWGATE_TEMPORAL_NAMESPACE: "b" }, dir);
    expect(overridden.temporal).toMatchObject({ address: "f:7233", namespace: "b", addressSource: "FLOWGATE_TEMPORAL_ADDRESS" });
    expect(loadConfig({ TEMPORAL_ADDRESS: "[::1]:7233" }, dir).temporal?.address).toBe("[::1]:7233");
  });

  it("turns TLS on for an API key, and reads certificates from their variables", () => {
    const withKey = loadConfig({ TEMPORAL_ADDRESS: "cloud:7233", TEMPORAL_API_KEY: "k-1" }, dir);
    expect(withKey.temporal).toMatchObject({ tls: true, apiKey: "k-1" });

    const mtls = loadConfig(
      {
        TEMPORAL_ADDRESS: "t:7233",
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca.file,
        TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert.file,
        TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey.file,
        TEMPORAL_TLS_SERVER_NAME: "temporal.internal",
        TEMPORAL_GRPC_META_X_TEAM: "orders",
      },
      dir,
    );
    const tls = mtls.temporal?.tls as { serverRootCACertificate: Uint8Array; clientCertPair: { crt: Uint8Array; key: Uint8Array }; serverNameOverride: string };
    expect(Buffer.from(tls.serverRootCACertificate)).toEqual(certs.ca.pem);
    expect(Buffer.from(tls.clientCertPair.crt)).toEqual(certs.clientCert.pem);
    expect(Buffer.from(tls.clientCertPair.key)).toEqual(certs.clientKey.pem);
    expect(tls.serverNameOverride).toBe("temporal.internal");
    expect(mtls.temporal?.metadata).toEqual({ "x-team": "orders" });
  });

  it("trims a secret's trailing line break, and spells TEMPORAL_TLS as Flowgate's other booleans", () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_API_KEY: "k-1\n" }, dir).temporal?.apiKey).toBe("k-1");
    // Anything but "1"/"true" would mean plaintext to envconfig, sending the key in the clear.
    expect(loadConfig({ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_API_KEY: "k", TEMPORAL_TLS: "TRUE" }, dir).temporal?.tls).toEqual({});
    expect(loadConfig({ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_TLS: "off" }, dir).temporal?.tls).toBeUndefined();
    expect(loadConfig({ TEMPORAL_TLS: "false" }, dir).temporal).toBeUndefined(); // plaintext needs no address
    expect(loadConfig({ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: "false" }, dir).temporal?.address).toBe("t:7233");
  });

  it("never quotes the config file in an error (it may hold a key)", () => {
    const broken = file("broken.toml", '[profile.default]\napi_key = "sk-SECRET-123\n');
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: broken }, dir)).toThrow(/^the Temporal config file .*broken\.toml is not valid TOML: /);
    expect(() => loadConfig({ TEMPORAL_CONFIG_FILE: broken }, dir)).not.toThrow(/SECRET/);
  });

  it("warns when FLOWGATE_TEMPORAL_ADDRESS points a profile's credentials elsewhere", () => {
    const toml = file("cloud-default.toml", '[profile.default]\naddress = "acme.tmprl.cloud:7233"\napi_key = "secret"\n');
    const config = loadConfig({ TEMPORAL_CONFIG_FILE: toml, FLOWGATE_TEMPORAL_ADDRESS: "localhost:7233" }, dir);
    expect(config.temporal).toMatchObject({ address: "localhost:7233", apiKey: "secret" });
    expect(config.warnings).toEqual([expect.stringMatching(/^FLOWGATE_TEMPORAL_ADDRESS=localhost:7233 replaces the address of profile "default", whose TLS and API key settings still apply/)]);
    expect(loadConfig({ TEMPORAL_ADDRESS: "t:7233" }, dir).warnings).toEqual([]);
  });

  it("reads a profile from a Temporal config file, as the Temporal CLI does", () => {
    const toml = file(
      "temporal.toml",
      ['[profile.default]', 'address = "local:7233"', "", '[profile.cloud]', 'address = "acme.tmprl.cloud:7233"', 'namespace = "acme.ns"', 'api_key = "secret"'].join("\n"),
    );
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: toml }, dir).temporal).toMatchObject({ address: "local:7233", namespace: "default" });
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: "cloud" }, dir)).toMatchObject({
      temporal: { address: "acme.tmprl.cloud:7233", namespace: "acme.ns", apiKey: "secret", tls: true, addressSource: 'profile "cloud" of the Temporal config file' },
      temporalNamespace: "acme.ns",
    });
    // Variables win over the file.
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: "cloud", TEMPORAL_NAMESPACE: "other" }, dir).temporal?.namespace).toBe("other");
    // A file with no profile at all is no profile, not a failure.
    expect(loadConfig({ TEMPORAL_CONFIG_FILE: file("no-profiles.toml", "# nothing yet\n") }, dir).temporal).toBeUndefined();
  });

  it("finds the workflow-types file in the working folder, or where FLOWGATE_WORKFLOWS_FILE says", () => {
    const own = mkdtempSync(path.join(dir, "cwd-"));
    expect(loadConfig({}, own).workflowsFile).toBeUndefined();
    writeFileSync(path.join(own, "flowgate.workflows.yaml"), "workflows: []\n");
    expect(loadConfig({}, own).workflowsFile).toBe(path.join(own, "flowgate.workflows.yaml"));
    expect(loadConfig({ FLOWGATE_WORKFLOWS_FILE: "types.json" }, own).workflowsFile).toBe(path.join(own, "types.json"));
  });

  it("resolves the worker's modules against the working folder", () => {
    expect(loadConfig({ FLOWGATE_WORKER_WORKFLOWS: "wf/index.ts", FLOWGATE_WORKER_ACTIVITIES: "/abs/acts.ts" }, dir)).toMatchObject({
      workerWorkflows: path.join(dir, "wf/index.ts"),
      workerActivities: "/abs/acts.ts",
    });
  });

  it("takes TLS files as a pair", () => {
    expect(loadConfig({}, dir).tls).toBeUndefined();
    expect(loadConfig({ FLOWGATE_TLS_CERT_FILE: "c.pem", FLOWGATE_TLS_KEY_FILE: "k.pem" }, dir).tls).toEqual({ certFile: "c.pem", keyFile: "k.pem" });
  });

  it("runs the samples only on the embedded Temporal, unless asked to", () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: "t:7233", FLOWGATE_START_WORKER: "true" }, dir)).toMatchObject({ startWorker: true, samples: false });
    expect(loadConfig({ TEMPORAL_ADDRESS: "t:7233", FLOWGATE_SAMPLES: "true" }, dir).samples).toBe(true);
  });

  it("parses durations and booleans", () => {
    expect(loadConfig({ FLOWGATE_RUN_TIMEOUT: "5m", FLOWGATE_START_WORKER: "false" }, dir)).toMatchObject({ runTimeoutMs: 300_000, startWorker: false, samples: false });
    expect(loadConfig({ FLOWGATE_RUN_TIMEOUT: "1500ms", FLOWGATE_ALLOW_UNREGISTERED: "yes" }, dir)).toMatchObject({ runTimeoutMs: 1500, allowUnregistered: true });
    expect(loadConfig({}, dir).databaseUrl).toBeUndefined();
    expect(loadConfig({}, dir)).toMatchObject({ uploadMaxBytes: 256 * 1024 * 1024, uploadTypes: [] });
    expect(loadConfig({ FLOWGATE_UPLOAD_TYPES: " Text/CSV ,image/*" }, dir).uploadTypes).toEqual(["text/csv", "image/*"]);
    expect(loadConfig({ FLOWGATE_CALLBACK_ALLOW: "https://hooks.example.com, https://*.shop.example" }, dir).callbackAllow).toEqual([
      "https://hooks.example.com",
      "https://*.shop.example",
    ]);
    expect(loadConfig({ FLOWGATE_DATABASE_URL: "postgresql://u:p@db:5432/flowgate" }, dir).databaseUrl).toBe("postgresql://u:p@db:5432/flowgate");
  });

  it("reads the TLS settings: the client CA and clients file together, the files read again every 10 s by default", () => {
    expect(loadConfig({}, dir)).toMatchObject({ tls: undefined, tlsClientsFile: undefined, tlsReloadIntervalMs: 10_000 });
    const env = { FLOWGATE_TLS_CERT_FILE: "c.pem", FLOWGATE_TLS_KEY_FILE: "k.pem", FLOWGATE_TLS_CLIENT_CA_FILE: "ca.pem", FLOWGATE_TLS_CLIENTS_FILE: "clients.yaml" };
    expect(loadConfig({ ...env, FLOWGATE_TLS_RELOAD_INTERVAL: "1m" }, dir)).toMatchObject({
      tls: { certFile: "c.pem", keyFile: "k.pem", clientCaFile: path.join(dir, "ca.pem") },
      tlsClientsFile: path.join(dir, "clients.yaml"),
      tlsReloadIntervalMs: 60_000,
    });
  });

  it("reads the connection bounds: 30 s for headers, 60 s for a body, 250 streams, no connection caps by default", () => {
    expect(loadConfig({}, dir)).toMatchObject({ headersTimeoutMs: 30_000, bodyTimeoutMs: 60_000, maxStreamsPerConnection: 250, maxConnections: 0, maxConnectionsPerAddress: 0 });
    expect(
      loadConfig({ FLOWGATE_HEADERS_TIMEOUT: "5s", FLOWGATE_BODY_TIMEOUT: "2m", FLOWGATE_MAX_CONNECTIONS: "1000", FLOWGATE_MAX_CONNECTIONS_PER_ADDRESS: "20", FLOWGATE_MAX_STREAMS_PER_CONNECTION: "100" }, dir),
    ).toMatchObject({ headersTimeoutMs: 5000, bodyTimeoutMs: 120_000, maxConnections: 1000, maxConnectionsPerAddress: 20, maxStreamsPerConnection: 100 });
    expect(() => loadConfig({ FLOWGATE_MAX_STREAMS_PER_CONNECTION: "0" }, dir)).toThrow('FLOWGATE_MAX_STREAMS_PER_CONNECTION must be a whole number of at least 1, got "0"');
  });

  it("reads OpenTelemetry's OTLP variables: tracing off without an endpoint", () => {
    expect(loadConfig({}, dir).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }, dir).tracing).toEqual({
      endpoint: "http://collector:4318/v1/traces",
      serviceName: "flowgate",
      headers: undefined,
    });
    expect(
      loadConfig(
        { OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://otel.example.com/traces", OTEL_SERVICE_NAME: "gateway-eu", OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=s%3Dcret, team=ops" },
        dir,
      ).tracing,
    ).toEqual({ endpoint: "https://otel.example.com/traces", serviceName: "gateway-eu", headers: { "x-api-key": "s=cret", team: "ops" } });
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, dir)).toThrow(/^OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_HEADERS: "novalue" }, dir)).toThrow(
      'OTEL_EXPORTER_OTLP_HEADERS must be name=value pairs separated by commas, got "novalue"',
    );
  });

  it("reads the auth and CORS settings, off by default", () => {
    expect(loadConfig({}, dir)).toMatchObject({ apiKeysFile: undefined, jwtJwksUrl: undefined, jwtClockSkewSeconds: 30, authPublic: ["health", "reflection", "metrics", "docs"], corsOrigins: [] });
    expect(loadConfig({ FLOWGATE_API_KEYS_FILE: "keys.yaml", FLOWGATE_JWT_CLOCK_SKEW: "2m", FLOWGATE_AUTH_PUBLIC: "none" }, dir)).toMatchObject({
      apiKeysFile: path.join(dir, "keys.yaml"),
      jwtClockSkewSeconds: 120,
      authPublic: [],
    });
    expect(loadConfig({ FLOWGATE_CORS_ORIGINS: "https://app.example.com, http://localhost:5173" }, dir).corsOrigins).toEqual(["https://app.example.com", "http://localhost:5173"]);
  });

  it.each([
    [{ FLOWGATE_PORT: "http" }, /FLOWGATE_PORT must be a port number/],
    [{ FLOWGATE_PORT: "70000" }, /FLOWGATE_PORT/],
    [{ FLOWGATE_LOG_LEVEL: "loud" }, /FLOWGATE_LOG_LEVEL must be one of/],
    [{ FLOWGATE_RUN_TIMEOUT: "soon" }, /FLOWGATE_RUN_TIMEOUT must be a duration/],
    [{ FLOWGATE_START_WORKER: "maybe" }, /FLOWGATE_START_WORKER must be true or false/],
    [{ FLOWGATE_SAMPLES: "maybe" }, /FLOWGATE_SAMPLES must be true or false/],
    [{ FLOWGATE_BODY_LIMIT: "12" }, /FLOWGATE_BODY_LIMIT must be a whole number of at least 1024/],
    [{ FLOWGATE_DATABASE_URL: "db.internal:5432" }, /^FLOWGATE_DATABASE_URL: "db.internal:" is not postgres: or postgresql:$/],
    [{ FLOWGATE_UPLOAD_TYPES: "text/csv, csv" }, /^FLOWGATE_UPLOAD_TYPES: "csv" is not a media type \(type\/subtype, or type\/\*\)$/],
    [{ FLOWGATE_CALLBACK_ALLOW: "hooks.example.com" }, /^FLOWGATE_CALLBACK_ALLOW: "hooks.example.com" is not an origin/],
    [{ FLOWGATE_CALLBACK_ATTEMPTS: "0" }, /^FLOWGATE_CALLBACK_ATTEMPTS/],
    [{ FLOWGATE_CORS_ORIGINS: "https://app.example.com/" }, /^FLOWGATE_CORS_ORIGINS: "https:\/\/app.example.com\/" is not an origin/],
    [{ FLOWGATE_CORS_ORIGINS: "app.example.com" }, /^FLOWGATE_CORS_ORIGINS: "app.example.com" is not an origin/],
    [{ FLOWGATE_JWT_JWKS_URL: "idp/jwks.json" }, /^FLOWGATE_JWT_JWKS_URL: "idp\/jwks.json" is not an http\(s\) URL$/],
    [{ FLOWGATE_JWT_JWKS_URL: "https://idp/jwks", FLOWGATE_JWT_KEYS_FILE: "k.json" }, /^FLOWGATE_JWT_KEYS_FILE and FLOWGATE_JWT_JWKS_URL: set one, not both$/],
    [{ FLOWGATE_JWT_CLOCK_SKEW: "a bit" }, /^FLOWGATE_JWT_CLOCK_SKEW must be a duration/],
    [{ FLOWGATE_AUTH_PUBLIC: "health,openapi" }, /^FLOWGATE_AUTH_PUBLIC: "openapi" is not health, reflection, metrics or docs \(or none\)$/],
    [{ FLOWGATE_UPLOAD_MAX_BYTES: "lots" }, /FLOWGATE_UPLOAD_MAX_BYTES must be a whole number/],
    [{ FLOWGATE_DATABASE_URL: "not a url" }, /^FLOWGATE_DATABASE_URL: not a URL \(expected postgres:\/\/user:password@host:5432\/database\)$/],
    [{ FLOWGATE_TEMPORAL_ADDRESS: "http://temporal:7233" }, /FLOWGATE_TEMPORAL_ADDRESS must be host:port/],
    [{ TEMPORAL_ADDRESS: "temporal" }, /^TEMPORAL_ADDRESS must be host:port/],
    [{ FLOWGATE_TLS_CERT_FILE: "cert.pem" }, /go together, but only FLOWGATE_TLS_CERT_FILE is set/],
    [{ FLOWGATE_TLS_CLIENT_CA_FILE: "ca.pem", FLOWGATE_TLS_CLIENTS_FILE: "c.yaml" }, /^FLOWGATE_TLS_CLIENT_CA_FILE needs FLOWGATE_TLS_CERT_FILE and FLOWGATE_TLS_KEY_FILE/],
    [{ FLOWGATE_TLS_CERT_FILE: "c.pem", FLOWGATE_TLS_KEY_FILE: "k.pem", FLOWGATE_TLS_CLIENT_CA_FILE: "ca.pem" }, /^FLOWGATE_TLS_CLIENT_CA_FILE is set, but FLOWGATE_TLS_CLIENTS_FILE is not/],
    [{ FLOWGATE_TLS_CERT_FILE: "c.pem", FLOWGATE_TLS_KEY_FILE: "k.pem", FLOWGATE_TLS_CLIENTS_FILE: "c.yaml" }, /^FLOWGATE_TLS_CLIENTS_FILE needs FLOWGATE_TLS_CLIENT_CA_FILE/],
    [{ FLOWGATE_TLS_RELOAD_INTERVAL: "often" }, /^FLOWGATE_TLS_RELOAD_INTERVAL must be a duration/],
    [{ TEMPORAL_API_KEY: "k" }, /^TEMPORAL_API_KEY configures a Temporal connection, but no address is set/],
    [{ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_TLS_SERVER_CA_CERT_PATH: "/no/such/ca.pem" }, /^TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read "\/no\/such\/ca.pem"/],
    [{ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: "true" }, /TEMPORAL_TLS_SERVER_NAME/],
    [{ TEMPORAL_PROFILE: "nope", TEMPORAL_CONFIG_FILE: file("empty.toml", "") }, /^TEMPORAL_PROFILE: Profile 'nope' not found/],
    [{ TEMPORAL_PROFILE: "nope", TEMPORAL_CONFIG_FILE: file("other.toml", '[profile.a]\naddress = "a:1"\n') }, /^TEMPORAL_PROFILE: Profile 'nope' not found/],
    [{ TEMPORAL_CONFIG_FILE: "/no/such/temporal.toml" }, /^TEMPORAL_CONFIG_FILE: there is no file "\/no\/such\/temporal.toml"$/],
    [{ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_API_KEY: "k", TEMPORAL_TLS: "maybe" }, /^TEMPORAL_TLS must be true or false/],
    [{ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_API_KEY: "line\nbreak" }, /^TEMPORAL_API_KEY contains a control character/],
    [{ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_TLS_SERVER_CA_CERT_PATH: file("not-a-ca.pem", "hello") }, /^TEMPORAL_TLS_SERVER_CA_CERT_PATH \(or _DATA\): not a PEM certificate$/],
    [{ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_TLS_CLIENT_CERT_PATH: file("lonely.pem", "x") }, /CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH .* go together, but only one is set/],
    [
      { TEMPORAL_ADDRESS: "t:7233", TEMPORAL_TLS_CLIENT_CERT_PATH: file("c.pem", "x"), TEMPORAL_TLS_CLIENT_KEY_PATH: file("k.pem", "y") },
      /^TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH \(or their _DATA forms\): .*PEM/,
    ],
  ])("names the variable in error: %o", (env, message) => {
    expect(() => loadConfig(env, dir)).toThrow(ConfigError);
    expect(() => loadConfig(env, dir)).toThrow(message);
  });
});

describe("the configuration table", () => {
  it("lists each variable once, and every variable it lists is read", () => {
    const variables = SETTINGS.map((s) => s.variable);
    expect(new Set(variables).size).toBe(variables.length);
    const source = readFileSync(path.join(REPO_ROOT, "src/config.ts"), "utf8");
    const mentioned = new Set(source.match(/\bFLOWGATE_[A-Z_]+\b/g));
    // Every FLOWGATE_ variable the code knows is in the table, or documented with the Temporal connection.
    for (const name of mentioned) expect(variables.includes(name) || name === "FLOWGATE_TEMPORAL_ADDRESS", name).toBe(true);
  });

  it("is what the README's configuration section shows (run `npm run docs:config` to update it)", () => {
    const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    const section = /<!-- configuration:begin -->\n([\s\S]*?)<!-- configuration:end -->/.exec(readme)?.[1];
    expect(section?.trim()).toBe(renderConfigurationDocs().trim());
  });
});
