// Who may call what: the scopes the contract declares, API keys, JWTs and the checks an Authenticator makes.
import { createServer, type Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { create, createFileRegistry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accessOfMethod,
  Authenticator,
  declaredScopes,
  hashApiKey,
  JwtVerifier,
  KeySetUnavailableError,
  loadApiKeys,
  loadClientCertificates,
  PermissionDeniedError,
  UnauthenticatedError,
  type ClientCertificate,
  type JwtSettings,
} from "../../src/auth/index.js";
import { SERVICE_DESCRIPTORS } from "../../src/services/index.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";

const ALL_PUBLIC = new Set(["health", "reflection", "metrics"] as const);
const SCOPES = ["configs.read", "configs.write", "events.publish", "events.read", "workflows.admin", "workflows.read", "workflows.write"];

describe("the scopes the contract declares", () => {
  it("gives every application RPC a scope, so none is served unguarded", () => {
    const missing = SERVICE_DESCRIPTORS.flatMap((s) => s.methods).filter((m) => {
      try {
        return accessOfMethod(m, ALL_PUBLIC).kind !== "scope";
      } catch {
        return true;
      }
    });
    expect(missing.map((m) => m.name)).toEqual([]);
    expect(declaredScopes(SERVICE_DESCRIPTORS)).toEqual(SCOPES);
  });

  it("makes terminating a run an admin's call and reading one a reader's", () => {
    const [workflows] = SERVICE_DESCRIPTORS;
    const scopeOf = (name: string) => accessOfMethod(workflows.methods.find((m) => m.name === name)!, ALL_PUBLIC);
    expect(scopeOf("StopWorkflow")).toEqual({ kind: "scope", scope: "workflows.admin" });
    expect(scopeOf("WatchWorkflow")).toEqual({ kind: "scope", scope: "workflows.read" });
    expect(scopeOf("StartWorkflow")).toEqual({ kind: "scope", scope: "workflows.write" });
  });

  it("refuses an RPC that declares no scope, naming it and the option to add", () => {
    const registry = createFileRegistry(
      create(FileDescriptorProtoSchema, {
        name: "unguarded.proto",
        package: "test.v1",
        syntax: "proto3",
        messageType: [{ name: "Empty" }],
        service: [{ name: "Unguarded", method: [{ name: "Open", inputType: ".test.v1.Empty", outputType: ".test.v1.Empty" }] }],
      }),
      () => undefined,
    );
    const method = registry.getService("test.v1.Unguarded")!.methods[0]!;
    expect(() => accessOfMethod(method, ALL_PUBLIC)).toThrow(/^test\.v1\.Unguarded\.Open declares no scope: add option \(flowgate\.auth\.v1\.scope\)/);
  });

  it("leaves health public unless the operator says otherwise", () => {
    const check = Health.methods[0]!;
    expect(accessOfMethod(check, ALL_PUBLIC)).toEqual({ kind: "public", part: "health" });
    expect(accessOfMethod(check, new Set())).toEqual({ kind: "authenticated", part: "health" });
  });
});

describe("the API keys file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-keys-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const file = async (text: string) => {
    const at = path.join(dir, `${Math.random()}.yaml`);
    await writeFile(at, text);
    return at;
  };

  it("finds a key by its hash, and nothing for any other key", async () => {
    const keys = await loadApiKeys(await file(`keys:\n  - name: billing\n    sha256: ${hashApiKey("s3cret-key")}\n    scopes: [workflows.read]\n`), SCOPES);
    expect(keys.find("s3cret-key")?.name).toBe("billing");
    expect(keys.find("s3cret-kez")).toBeUndefined();
    expect(keys.find("")).toBeUndefined();
  });

  it.each([
    ["nothing under keys", "keys: 3\n", /expected a list under "keys:"/],
    ["a key in clear", "keys:\n  - name: a\n    sha256: s3cret\n    scopes: []\n", /keys\[0\]\.sha256 \(a\): expected the key's SHA-256 as 64 hex digits/],
    ["a scope the contract does not declare", `keys:\n  - name: a\n    sha256: ${"a".repeat(64)}\n    scopes: [workflow.read]\n`, /keys\[0\]\.scopes \(a\): "workflow\.read" is not a scope; the contract declares configs\.read/],
    ["a name listed twice", `keys:\n  - {name: a, sha256: ${"a".repeat(64)}, scopes: []}\n  - {name: a, sha256: ${"b".repeat(64)}, scopes: []}\n`, /keys\[1\]\.name: "a" is listed twice/],
    ["one key under two names", `keys:\n  - {name: a, sha256: ${"a".repeat(64)}, scopes: []}\n  - {name: b, sha256: ${"A".repeat(64)}, scopes: []}\n`, /keys\[1\]\.sha256 \(b\): the same key is listed twice/],
  ])("refuses %s, naming the file and the entry", async (_what, text, message) => {
    const at = await file(text);
    await expect(loadApiKeys(at, SCOPES)).rejects.toThrow(message);
    await expect(loadApiKeys(at, SCOPES)).rejects.toThrow(`FLOWGATE_API_KEYS_FILE "${at}"`);
  });

  it("refuses a file it cannot read, naming the variable", async () => {
    await expect(loadApiKeys(path.join(dir, "absent.yaml"), SCOPES)).rejects.toThrow(/^FLOWGATE_API_KEYS_FILE: cannot read ".*absent\.yaml"/);
  });
});

describe("the client certificates file", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-clients-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const file = async (text: string) => {
    const at = path.join(dir, `${Math.random()}.yaml`);
    await writeFile(at, text);
    return at;
  };
  const certificate = (commonName: string | undefined, altNames: string[] = [], verified = true): ClientCertificate => ({
    verified,
    verifyError: verified ? undefined : "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    commonName,
    altNames,
    serial: "0A1B",
  });

  it("finds an entry by the certificate's CN or any of its SANs, its name standing for its subject when it gives none", async () => {
    const clients = await loadClientCertificates(
      await file(
        "clients:\n  - {name: billing, scopes: [workflows.read]}\n  - {name: mesh, subject: 'spiffe://cluster.local/ns/a/sa/b', scopes: ['*']}\n" +
          "keys: []\n",
      ),
      SCOPES,
    );
    expect(clients.find(certificate("billing"))?.name).toBe("billing");
    expect(clients.find(certificate("someone", ["other.example", "spiffe://cluster.local/ns/a/sa/b"]))?.name).toBe("mesh");
    expect(clients.find(certificate("billing.example"))).toBeUndefined();
    expect(clients.find(certificate(undefined, []))).toBeUndefined();
  });

  it.each([
    ["nothing under clients", "keys: []\n", /expected a list under "clients:"/],
    ["a scope the contract does not declare", "clients:\n  - {name: a, scopes: [workflow.read]}\n", /clients\[0\]\.scopes \(a\): "workflow\.read" is not a scope/],
    ["a name listed twice", "clients:\n  - {name: a, subject: x, scopes: []}\n  - {name: a, subject: y, scopes: []}\n", /clients\[1\]\.name: "a" is listed twice/],
    ["a subject listed twice", "clients:\n  - {name: a, subject: x, scopes: []}\n  - {name: b, subject: x, scopes: []}\n", /clients\[1\]\.subject \(b\): "x" is listed twice/],
    ["an empty subject", "clients:\n  - {name: a, subject: ' ', scopes: []}\n", /clients\[0\]\.subject \(a\): expected the certificate's common name/],
  ])("refuses %s, naming the file and the entry", async (_what, text, message) => {
    const at = await file(text);
    await expect(loadClientCertificates(at, SCOPES)).rejects.toThrow(message);
    await expect(loadClientCertificates(at, SCOPES)).rejects.toThrow(`FLOWGATE_TLS_CLIENTS_FILE "${at}"`);
  });

  it("makes a listed, verified certificate the caller, and refuses the others saying why", async () => {
    const clients = await loadClientCertificates(await file("clients:\n  - {name: billing, scopes: [workflows.read]}\n"), SCOPES);
    const auth = new Authenticator({ clientCertificates: clients });
    expect(auth.enabled).toBe(true);
    const caller = await auth.authenticate(new Headers(), certificate("billing"));
    expect({ id: caller.id, scopes: [...caller.scopes] }).toEqual({ id: "cert:billing", scopes: ["workflows.read"] });
    await expect(auth.authenticate(new Headers(), certificate("billing", [], false))).rejects.toThrow(
      'the client certificate "CN=billing" (serial 0A1B) is not trusted: it is not signed by a CA this server accepts client certificates from (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)',
    );
    await expect(auth.authenticate(new Headers(), certificate("nobody", ["nobody.example"]))).rejects.toThrow(
      'the client certificate "CN=nobody, nobody.example" (serial 0A1B) is verified, but no client with its subject is known here',
    );
    await expect(auth.authenticate(new Headers())).rejects.toThrow(/^missing credentials: .*, or connect over TLS with a client certificate$/);
    // With no keys or tokens accepted, a bearer credential cannot win over the certificate: it is refused, saying so.
    await expect(auth.authenticate({ authorization: "Bearer abc" }, certificate("billing"))).rejects.toThrow(/^this server accepts neither API keys nor tokens/);
  });
});

describe("an Authenticator", () => {
  let keysFile: string;
  let auth: Authenticator;
  beforeAll(async () => {
    keysFile = path.join(await mkdtemp(path.join(os.tmpdir(), "flowgate-keys-")), "keys.yaml");
    await writeFile(keysFile, `keys:\n  - {name: reader, sha256: ${hashApiKey("reader-key")}, scopes: [workflows.read]}\n  - {name: root, sha256: ${hashApiKey("root-key")}, scopes: ["*"]}\n`);
    auth = new Authenticator({ apiKeys: await loadApiKeys(keysFile, SCOPES) });
  });

  it("lets everyone in when off", async () => {
    const off = new Authenticator();
    expect(off.enabled).toBe(false);
    const caller = await off.authenticate(new Headers());
    expect(() => off.authorize(caller, { kind: "scope", scope: "workflows.admin" }, "StopWorkflow")).not.toThrow();
  });

  it("takes a key as a bearer credential, as x-api-key, or as a Dapr sidecar's dapr-api-token", async () => {
    expect((await auth.authenticate(new Headers({ authorization: "Bearer reader-key" }))).id).toBe("key:reader");
    expect((await auth.authenticate({ "x-api-key": "root-key" })).id).toBe("key:root");
    // What a Dapr sidecar sends with its APP_API_TOKEN.
    expect((await auth.authenticate(new Headers({ "dapr-api-token": "reader-key" }))).id).toBe("key:reader");
  });

  it.each([
    ["no credentials", {}, /^missing credentials: send "Authorization: Bearer <API key or token>"$/],
    ["an unknown key", { authorization: "Bearer nope" }, /^the API key is not valid$/],
    ["a Basic header", { authorization: "Basic dXNlcjpwYXNz" }, /^the Authorization header is not "Bearer <credential>"/],
  ])("refuses %s as unauthenticated", async (_what, headers, message) => {
    const err = await auth.authenticate(headers).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect((err as Error).message).toMatch(message);
  });

  it("names the scope a call needs, and what the caller has", async () => {
    const reader = await auth.authenticate({ "x-api-key": "reader-key" });
    expect(() => auth.authorize(reader, { kind: "scope", scope: "workflows.read" }, "GetWorkflowStatus")).not.toThrow();
    const refusal = (() => {
      try {
        auth.authorize(reader, { kind: "scope", scope: "workflows.admin" }, "StopWorkflow");
      } catch (err) {
        return err;
      }
    })();
    expect(refusal).toBeInstanceOf(PermissionDeniedError);
    expect((refusal as Error).message).toBe('StopWorkflow needs the scope "workflows.admin"; key:reader has only workflows.read');
    const root = await auth.authenticate({ "x-api-key": "root-key" });
    expect(() => auth.authorize(root, { kind: "scope", scope: "workflows.admin" }, "StopWorkflow")).not.toThrow();
  });
});

describe("JWT bearer tokens", () => {
  let dir: string;
  let privateKey: CryptoKey;
  let jwk: JWK;
  let jwksServer: Server;
  let jwksUrl: string;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "flowgate-jwks-"));
    const pair = await generateKeyPair("ES256");
    privateKey = pair.privateKey;
    jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    await writeFile(path.join(dir, "jwks.json"), JSON.stringify({ keys: [jwk] }));
    jwksServer = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as { port: number }).port}/jwks.json`;
  });
  afterAll(async () => {
    jwksServer.close();
    await rm(dir, { recursive: true, force: true });
  });

  const settings = (more: Partial<JwtSettings> = {}): JwtSettings => ({
    keysFile: path.join(dir, "jwks.json"),
    issuer: "https://idp.test",
    audience: "flowgate",
    clockSkewSeconds: 30,
    ...more,
  });
  const token = (claims: Record<string, unknown> = {}, exp = now() + 300) =>
    new SignJWT({ scope: "workflows.read events.read", ...claims })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer("https://idp.test")
      .setAudience("flowgate")
      .setSubject("alice")
      .setExpirationTime(exp)
      .sign(privateKey);

  it("accepts a valid token from a local key set, with the scopes of its scope claim", async () => {
    const verifier = await JwtVerifier.create(settings());
    expect(await verifier.verify(await token())).toEqual({ subject: "alice", scopes: ["workflows.read", "events.read"] });
  });

  it("reads scopes from scp too, and keys from a JWKS URL", async () => {
    const verifier = await JwtVerifier.create(settings({ keysFile: undefined, jwksUrl }));
    expect((await verifier.verify(await token({ scope: undefined, scp: ["configs.read"] }))).scopes).toEqual(["configs.read"]);
  });

  it("tolerates the configured clock skew on exp, and no more", async () => {
    const verifier = await JwtVerifier.create(settings());
    await expect(verifier.verify(await token({}, now() - 10))).resolves.toMatchObject({ subject: "alice" });
    await expect(verifier.verify(await token({}, now() - 60))).rejects.toThrow(/^the token expired at \d{4}-\d\d-\d\dT.*; get a new one$/);
  });

  it.each([
    ["for another audience", { aud: "billing" }, /the token is not valid here: unexpected "aud" claim value \(claim "aud"\)/],
    ["from another issuer", { iss: "https://evil.test" }, /unexpected "iss" claim value \(claim "iss"\)/],
  ])("refuses a token %s", async (_what, claims, message) => {
    const verifier = await JwtVerifier.create(settings());
    const signed = await new SignJWT({ sub: "alice", iss: "https://idp.test", aud: "flowgate", exp: now() + 60, ...claims })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .sign(privateKey);
    await expect(verifier.verify(signed)).rejects.toThrow(message);
  });

  it("refuses a token signed by a key it does not know, and one that names no caller", async () => {
    const other = await generateKeyPair("ES256");
    const verifier = await JwtVerifier.create(settings());
    const forged = await new SignJWT({ sub: "alice" })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer("https://idp.test")
      .setAudience("flowgate")
      .setExpirationTime(now() + 60)
      .sign(other.privateKey);
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(UnauthenticatedError);
    const anonymous = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer("https://idp.test").setAudience("flowgate").setExpirationTime(now() + 60).sign(privateKey);
    await expect(verifier.verify(anonymous)).rejects.toThrow('the token names no caller: it needs a "sub" (or "client_id") claim');
  });

  it("answers a key set it cannot fetch as unavailable, not as the caller's fault", async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, "127.0.0.1", resolve));
    const port = (down.address() as { port: number }).port;
    down.close();
    const verifier = await JwtVerifier.create(settings({ keysFile: undefined, jwksUrl: `http://127.0.0.1:${port}/jwks.json` }));
    const err = await verifier.verify(await token()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeySetUnavailableError);
    expect((err as Error).message).toMatch(`could not be fetched from http://127.0.0.1:${port}/jwks.json`);
  });
});
