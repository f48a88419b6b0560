// Prints the conformance run's results per server configuration (protocol, HTTP version, TLS, reference
// client) from the runner's verbose output, which gives each configuration's case count but names only the
// cases that failed. Usage: node --import tsx test/conformance/summary.ts RUNNER_OUTPUT_FILE
import { readFileSync } from "node:fs";

interface Row {
  readonly protocol: string;
  readonly http: string;
  readonly tls: string;
  readonly client: string;
  cases: number;
  failed: number;
  knownFailing: number;
}

const PROTOCOL_NAMES: Readonly<Record<string, string>> = { PROTOCOL_CONNECT: "Connect", PROTOCOL_GRPC: "gRPC", PROTOCOL_GRPC_WEB: "gRPC-Web" };
/** Suites for one protocol leave the protocol out of their cases' names and say it in the suite's name. */
const SUITE_PREFIXES: readonly (readonly [string, string])[] = [
  ["gRPC-Web ", "PROTOCOL_GRPC_WEB"],
  ["gRPC ", "PROTOCOL_GRPC"],
  ["Connect ", "PROTOCOL_CONNECT"],
];
const GRPC_CLIENT_MARKER = "(grpc client impl)";

const output = readFileSync(process.argv[2] ?? "/dev/stdin", "utf8");
const rows = new Map<string, Row>();
const keyOf = (protocol: string, http: string, tls: string, client: string) => [protocol, http, tls, client].join(" ");

for (const [, count, client, http, protocol, tls] of output.matchAll(
  /^Running (\d+) tests with (\S+) for server config #\d+ \{HTTP_VERSION_(\d), (\w+), TLS:(\w+)\}/gm,
)) {
  const clientName = client === "grpc-reference-client" ? "grpc-go" : "connect-go";
  rows.set(keyOf(protocol!, http!, tls!, clientName), { protocol: protocol!, http: http!, tls: tls!, client: clientName, cases: Number(count), failed: 0, knownFailing: 0 });
}

let unattributed = 0;
for (const [, failedName, knownName] of output.matchAll(/^(?:FAILED: (.+):$|INFO: (.+) failed \(as expected\):$)/gm)) {
  const name = (failedName ?? knownName)!;
  const http = /\/HTTPVersion:(\d)\//.exec(name)?.[1];
  const tls = /\/TLS:(\w+)\//.exec(name)?.[1];
  const protocol = /\/Protocol:(\w+)\//.exec(name)?.[1] ?? SUITE_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1];
  const row = rows.get(keyOf(protocol ?? "", http ?? "", tls ?? "", name.includes(GRPC_CLIENT_MARKER) ? "grpc-go" : "connect-go"));
  if (row === undefined) unattributed++;
  else if (failedName !== undefined) row.failed++;
  else row.knownFailing++;
}

const table = [["protocol", "HTTP", "TLS", "reference client", "cases", "passed", "failed", "known failing"]];
for (const row of rows.values()) {
  const passed = row.cases - row.failed - row.knownFailing;
  table.push([PROTOCOL_NAMES[row.protocol] ?? row.protocol, row.http === "1" ? "1.1" : row.http, row.tls, row.client, ...[row.cases, passed, row.failed, row.knownFailing].map(String)]);
}
const widths = table[0]!.map((_, i) => Math.max(...table.map((cells) => cells[i]!.length)));
console.log("\nconformance results per server configuration:");
for (const cells of table) console.log(cells.map((cell, i) => (i >= 4 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  "));
const computed = Number(/^Computed (\d+) test case permutation/m.exec(output)?.[1] ?? 0);
const filtered = Number(/^Filtered tests to (\d+) test case permutation/m.exec(output)?.[1] ?? computed);
if (unattributed > 0) console.log(`${unattributed} failures could not be placed in a configuration (see the runner's output above)`);
// The runner's own count, on the closing line CI reads: known failures are neither passed nor failed there.
const totals = /^(\d+) passed, (\d+) failed$/m.exec(output);
console.log(`${computed - filtered} cases skipped (test/conformance/hanging.txt)`);
console.log(totals ? `conformance: ${totals[1]} passed, ${totals[2]} failed, ${computed - filtered} skipped` : "conformance: the runner reported no totals");
