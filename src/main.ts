#!/usr/bin/env node
// `npm start`: the library with nothing handed in. The configuration decides everything: the embedded
// Temporal and a worker process when no cluster is configured, the workflow-types file, the handler module.
// It listens and stops everything cleanly on SIGINT / SIGTERM / SIGHUP.
import { AuthConfigError } from "./auth/index.js";
import { ConfigError } from "./config.js";
import { PortTakenError } from "./embedded/index.js";
import { TriggerRegistrationError } from "./events/index.js";
import { createFlowgate } from "./flowgate.js";
import { HandlerModuleError } from "./handler/index.js";
import { RegistrationError } from "./registry/index.js";

async function main(): Promise<void> {
  // The worker in its own process, as in production: the API's process serves calls only.
  const flowgate = createFlowgate({ worker: "process" });
  try {
    await flowgate.listen();
  } catch (err) {
    if (!isRefusal(err) && !(err instanceof PortTakenError)) flowgate.logger.fatal({ err }, "Flowgate failed to start");
    flowgate.logger.flush();
    throw err;
  }
}

/** A setting or declaration that cannot be used: refused before anything starts. */
function isRefusal(err: unknown): boolean {
  return err instanceof ConfigError || err instanceof AuthConfigError || err instanceof RegistrationError || err instanceof TriggerRegistrationError || err instanceof HandlerModuleError;
}

main().catch((err: unknown) => {
  if (isRefusal(err)) {
    console.error(`flowgate: invalid configuration: ${(err as Error).message}`);
    process.exit(2);
  }
  if (err instanceof PortTakenError) {
    console.error(`flowgate: ${err.message}`);
    process.exit(1);
  }
  console.error("flowgate: failed to start:", err);
  process.exit(1);
});
