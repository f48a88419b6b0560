#!/usr/bin/env node
// The package's bin: `flowgate <command>` (see cli.ts); `flowgate serve` runs the server as `npm start` does.
import { runCli } from "./cli.js";

const argv = process.argv.slice(2);
// A reader that stops early (`flowgate watch --json | head -1`) is not an error of ours.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});
if (argv[0] === "serve" && (argv[1] === "--help" || argv[1] === "-h")) {
  process.stdout.write("Usage: flowgate serve\n\nRuns the Flowgate server, as npm start does; the environment configures it (see the README's Configuration).\n");
} else if (argv[0] === "serve") {
  process.argv.splice(2, 1);
  await import("../main.js");
} else {
  process.exitCode = await runCli(argv, { out: process.stdout, err: process.stderr, tty: process.stdout.isTTY === true });
}
