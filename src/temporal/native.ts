// Unary Temporal calls over the SDK's Rust core (NativeConnection) rather than grpc-js: the same
// StartWorkflowExecution costs the gateway about a third less CPU there (bench/RESULTS.md). Long polls
// stay on grpc-js, whose calls a client's cancel can stop; the Rust core's cannot be cancelled.
// Only the two modules needed, not @temporalio/worker's index, which loads the whole worker (+8 MB).
import { NativeConnection } from "@temporalio/worker/lib/connection.js";
import { Runtime } from "@temporalio/worker/lib/runtime.js";
import { Client } from "@temporalio/client";
import type { Logger } from "pino";
import { sdkLogger } from "../observability/sdk-logger.js";
import type { TemporalTarget } from "./connection.js";

/** The SDK's Client on a NativeConnection: unary calls cost the gateway about half the CPU they cost on grpc-js. */
export interface NativeClient {
  readonly client: Client;
  readonly connection: NativeConnection;
}

/** A failed connection attempt is tried again this long after, at most; calls meanwhile take grpc-js. */
const RECONNECT_AFTER_MS = 1000;

/**
 * The native connection, made lazily: the first call asks for one, and until it is up (Temporal down at
 * start-up, say) `service()` answers undefined and the caller takes grpc-js. Once up, the Rust core
 * reconnects by itself after an outage.
 */
export class NativeLink {
  private connected: NativeClient | undefined;
  private connecting: Promise<void> | undefined;
  private nextAttempt = 0;
  private closed = false;

  constructor(
    private readonly target: TemporalTarget,
    private readonly identity: string,
    private readonly log: Logger | undefined,
  ) {}

  /** A Client on the Rust core, or undefined while it is not connected (a connection is then on its way). */
  client(): NativeClient | undefined {
    if (this.connected !== undefined) return this.connected;
    if (!this.closed && this.connecting === undefined && Date.now() >= this.nextAttempt) this.connecting = this.connect();
    return undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting;
    const connected = this.connected;
    this.connected = undefined;
    await connected?.connection.close();
  }

  private async connect(): Promise<void> {
    try {
      installRuntime(this.log);
      const connection = await NativeConnection.connect({
        address: this.target.address,
        tls: this.target.tls,
        apiKey: this.target.apiKey,
        metadata: this.target.metadata === undefined ? undefined : { ...this.target.metadata },
      });
      if (this.closed) await connection.close();
      else {
        this.connected = { connection, client: new Client({ connection, namespace: this.target.namespace, identity: this.identity }) };
        this.log?.debug("unary Temporal calls now go over the SDK's Rust core");
      }
    } catch (err) {
      this.nextAttempt = Date.now() + RECONNECT_AFTER_MS;
      this.log?.debug({ err }, "the native Temporal connection is not up yet; calls use grpc-js meanwhile");
    } finally {
      this.connecting = undefined;
    }
  }
}

/**
 * The SDK's Rust runtime, once per process, logging through pino and leaving SIGTERM to Flowgate (the
 * SDK's default would shut the runtime down on the first signal, under calls still draining). In a
 * process that already has one (a test running a worker beside the API), that one is used.
 */
export function installRuntime(log: Logger | undefined): void {
  try {
    Runtime.install({
      shutdownSignals: [],
      logger: sdkLogger(log),
      telemetryOptions: { logging: { forward: {}, filter: { core: "WARN", other: "ERROR" } } },
    });
  } catch {
    // Already installed or instantiated in this process.
  }
}
