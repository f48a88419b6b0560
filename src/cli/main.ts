#!/usr/bin/env node
// The package's bin: `flowgate <command>` (see cli.ts); `flowgate serve` runs the server as `npm start` does.
import { runCli } from "./cli.js";

const argv = process.argv.slice(2);
if (argv[0] === "serve") {
  process.argv.splice(2, 1);
  await import("../main.js");
} else {
  process.exitCode = await runCli(argv, { out: process.stdout, err: process.stderr, tty: process.stdout.isTTY === true });
}
