import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("loadConfig", () => {
  it("has a default for every option", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8000,
      temporalAddress: undefined,
      temporalNamespace: "default",
      taskQueue: "flowgate",
      logLevel: "info",
      bodyLimitBytes: 4 * 1024 * 1024,
      runTimeoutMs: 60_000,
      startWorker: true,
      devServerPort: 7233,
      devServerUiPort: 8233,
    });
    expect(config.dataDir).toMatch(/\.flowgate$/);
  });

  it("reads the standard TEMPORAL_* variables, with FLOWGATE_* taking precedence", () => {
    expect(loadConfig({ TEMPORAL_ADDRESS: "t:7233", TEMPORAL_NAMESPACE: "prod" })).toMatchObject({
      temporalAddress: "t:7233",
      temporalNamespace: "prod",
      startWorker: false, // an external Temporal has its own workers
    });
    expect(loadConfig({ TEMPORAL_ADDRESS: "t:7233", FLOWGATE_TEMPORAL_ADDRESS: "f:7233" }).temporalAddress).toBe("f:7233");
    expect(loadConfig({ TEMPORAL_ADDRESS: "[::1]:7233" }).temporalAddress).toBe("[::1]:7233");
  });

  it("takes TLS files as a pair", () => {
    expect(loadConfig({}).tls).toBeUndefined();
    expect(loadConfig({ FLOWGATE_TLS_CERT_FILE: "c.pem", FLOWGATE_TLS_KEY_FILE: "k.pem" }).tls).toEqual({ certFile: "c.pem", keyFile: "k.pem" });
  });

  it("parses durations and booleans", () => {
    expect(loadConfig({ FLOWGATE_RUN_TIMEOUT: "5m", FLOWGATE_START_WORKER: "false" })).toMatchObject({ runTimeoutMs: 300_000, startWorker: false });
    expect(loadConfig({ FLOWGATE_RUN_TIMEOUT: "1500ms" }).runTimeoutMs).toBe(1500);
  });

  it.each([
    [{ FLOWGATE_PORT: "http" }, /FLOWGATE_PORT must be a port number/],
    [{ FLOWGATE_PORT: "70000" }, /FLOWGATE_PORT/],
    [{ FLOWGATE_LOG_LEVEL: "loud" }, /FLOWGATE_LOG_LEVEL must be one of/],
    [{ FLOWGATE_RUN_TIMEOUT: "soon" }, /FLOWGATE_RUN_TIMEOUT must be a duration/],
    [{ FLOWGATE_START_WORKER: "maybe" }, /FLOWGATE_START_WORKER must be true or false/],
    [{ FLOWGATE_BODY_LIMIT: "12" }, /FLOWGATE_BODY_LIMIT must be a whole number of at least 1024/],
    [{ FLOWGATE_TEMPORAL_ADDRESS: "http://temporal:7233" }, /FLOWGATE_TEMPORAL_ADDRESS must be host:port/],
    [{ TEMPORAL_ADDRESS: "temporal" }, /^TEMPORAL_ADDRESS must be host:port/],
    [{ FLOWGATE_TLS_CERT_FILE: "cert.pem" }, /go together, but only FLOWGATE_TLS_CERT_FILE is set/],
  ])("names the variable in error: %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
