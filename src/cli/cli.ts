// `flowgate`, the command-line tool: every command is one or a few calls of the generated clients over the
// Connect protocol (connect-node, HTTP/1.1 or TLS), so it needs nothing but a Flowgate's URL and, for a
// secured one, an API key. `flowgate serve` runs the server itself. Arguments are read by node:util's
// parseArgs, which needs no dependency; output is a person's at a terminal and JSON with --json.
//
// Exit codes: 0 success; 1-16 the Connect code of the call that failed (3 invalid_argument, 5 not_found,
// 14 unavailable, 16 unauthenticated, ...); 64 a usage mistake; 65 a run that ended without completing
// (failed, canceled, terminated, timed out) where the command waited for its end.
import { readFile } from "node:fs/promises";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { fromJson, toJson, type JsonObject, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, ValueSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type CallOptions } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { createFlowgateClient, credentials, type FlowgateClient } from "../client/index.js";
import { UpdateMode } from "../../gen/flowgate/config/v1/config_pb.js";
import { ConfigService, GetConfigResponseSchema, UpdateConfigResponseSchema } from "../../gen/flowgate/config/v1/config_service_pb.js";
import { CloudEventSchema } from "../../gen/flowgate/events/v1/events_pb.js";
import { EventsService, PublishEventResponseSchema } from "../../gen/flowgate/events/v1/events_service_pb.js";
import { WorkflowEventType, WorkflowStatus } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import {
  GetWorkflowResultResponseSchema,
  GetWorkflowStatusResponseSchema,
  ListWorkflowsResponseSchema,
  ListWorkflowTypesResponseSchema,
  QueryWorkflowResponseSchema,
  SignalWorkflowResponseSchema,
  StopWorkflowResponseSchema,
  UpdateWorkflowResponseSchema,
  WatchWorkflowResponseSchema,
  type GetWorkflowResultResponse,
  type WatchWorkflowResponse,
} from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";
import { fields, ProgressLine, showValue, table, writeJson, type Io } from "./output.js";

const EXIT_USAGE = 64;
/** --json prints what the REST API returns: the contract's field names, every field present. */
const REST_JSON = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;
const EXIT_RUN_NOT_COMPLETED = 65;

/** A mistake in the command line: its message names the argument, and the exit code is 64. */
class UsageError extends Error {
  override name = "UsageError";
}

const GLOBAL_OPTIONS = {
  url: { type: "string" },
  "api-key": { type: "string" },
  json: { type: "boolean" },
  timeout: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

type Options = NonNullable<ParseArgsConfig["options"]>;
type Values = Record<string, string | boolean | undefined>;

interface Context {
  readonly io: Io;
  readonly values: Values;
  readonly args: readonly string[];
  readonly json: boolean;
  readonly call: CallOptions;
  /** --timeout: each call's deadline, and how long `watch`, `result` and `--wait` wait for a run's end. */
  readonly timeoutMs: number | undefined;
  readonly fg: FlowgateClient;
  readonly events: ReturnType<typeof createClient<typeof EventsService>>;
  readonly configs: ReturnType<typeof createClient<typeof ConfigService>>;
  readonly stdin: () => Promise<string>;
}

interface Command {
  /** `<workflow_id> <signal>`: the positional arguments, `[x]` optional. */
  readonly usage: string;
  readonly summary: string;
  readonly options?: Options;
  /** Lines under the usage in `flowgate <command> --help`. */
  readonly help?: readonly string[];
  run(ctx: Context): Promise<number>;
}

const INPUT_OPTION = { input: { type: "string", short: "i" } } as const satisfies Options;
const INPUT_HELP = "--input, -i <json>    the input: JSON text, @file.json, or - for standard input";
const RUN_OPTION = { "run-id": { type: "string" } } as const satisfies Options;
const RUN_HELP = "--run-id <id>         a run of the workflow id (the latest when absent)";

const COMMANDS: Record<string, Command> = {
  start: {
    usage: "<workflow_type>",
    summary: "start a workflow; --wait for its result, --watch its events",
    options: {
      ...INPUT_OPTION,
      id: { type: "string" },
      "request-id": { type: "string" },
      "task-queue": { type: "string" },
      wait: { type: "boolean", short: "w" },
      watch: { type: "boolean" },
    },
    help: [
      INPUT_HELP,
      "--id <workflow_id>    the run's workflow id (generated when absent)",
      "--request-id <id>     retries of this start with the same id make one run",
      "--task-queue <name>   a task queue other than the type's",
      "--wait, -w            wait for the run's end and print its result",
      "--watch               print the run's events and progress until its end",
    ],
    async run(ctx) {
      const [type] = ctx.args;
      const input = await readInput(ctx, "input");
      const run = await ctx.fg.start(type!, input, {
        workflowId: str(ctx.values.id),
        requestId: str(ctx.values["request-id"]),
        taskQueue: str(ctx.values["task-queue"]),
        call: ctx.call,
      });
      if (ctx.values.watch === true) {
        if (!ctx.json) ctx.io.out.write(`Started ${run.workflowId} (run ${run.runId})\n`);
        return watchRun(ctx, run.workflowId, run.runId);
      }
      if (ctx.values.wait === true) {
        if (!ctx.json) ctx.io.out.write(`Started ${run.workflowId} (run ${run.runId})\n`);
        return printOutcome(ctx, await waitForEnd(ctx, run.workflowId, run.runId));
      }
      if (ctx.json) writeJson(ctx.io, { workflow_id: run.workflowId, run_id: run.runId });
      else ctx.io.out.write(`Started ${run.workflowId} (run ${run.runId})\n`);
      return 0;
    },
  },
  watch: {
    usage: "<workflow_id>",
    summary: "print a run's events as they come, with a progress bar, until it ends",
    options: { ...RUN_OPTION },
    help: [RUN_HELP, "Resumes by itself after a dropped connection. With --json, one event per line."],
    async run(ctx) {
      return watchRun(ctx, ctx.args[0]!, str(ctx.values["run-id"]) ?? "");
    },
  },
  status: {
    usage: "<workflow_id>",
    summary: "a run's status, type, times, progress and pending activities",
    options: { ...RUN_OPTION },
    help: [RUN_HELP],
    async run(ctx) {
      const res = await ctx.fg.workflows.getWorkflowStatus({ workflowId: ctx.args[0]!, runId: str(ctx.values["run-id"]) }, ctx.call);
      if (ctx.json) {
        writeJson(ctx.io, toJson(GetWorkflowStatusResponseSchema, res, REST_JSON));
        return 0;
      }
      const progress = res.progress && `${res.progress.percent === undefined ? "" : `${Math.round(res.progress.percent)}% `}${res.progress.step}${res.progress.message ? ` (${res.progress.message})` : ""}`;
      ctx.io.out.write(
        fields([
          ["workflow id", res.workflowId],
          ["run id", res.runId],
          ["type", res.workflowType],
          ["task queue", res.taskQueue],
          ["status", statusName(res.status)],
          ["started", time(res.startTime)],
          ["closed", time(res.closeTime)],
          ["history", `${res.historyLength} events`],
          ["progress", progress],
          ["waiting for", res.waitingForInput && `${res.waitingForInput.name}${res.waitingForInput.prompt ? `: ${res.waitingForInput.prompt}` : ""}`],
          ...res.pendingActivities.map(
            (a) => ["pending", `${a.activityType} (attempt ${a.attempt}, ${a.state})${a.lastFailure ? `: ${a.lastFailure.message}` : ""}`] as const,
          ),
        ]),
      );
      return 0;
    },
  },
  result: {
    usage: "<workflow_id>",
    summary: "wait for a run's end and print its result (or its failure)",
    options: { ...RUN_OPTION },
    help: [RUN_HELP],
    async run(ctx) {
      return printOutcome(ctx, await waitForEnd(ctx, ctx.args[0]!, str(ctx.values["run-id"]) ?? ""));
    },
  },
  signal: {
    usage: "<workflow_id> <signal>",
    summary: "send a signal to a run",
    options: { ...INPUT_OPTION, ...RUN_OPTION, "request-id": { type: "string" } },
    help: [INPUT_HELP, RUN_HELP, "--request-id <id>     retries of this signal with the same id deliver it once"],
    async run(ctx) {
      const [workflowId, signalName] = ctx.args;
      const input = await readInput(ctx, "input");
      const res = await ctx.fg.workflows.signalWorkflow(
        { workflowId, runId: str(ctx.values["run-id"]), signalName, input: value(input), requestId: str(ctx.values["request-id"]) },
        ctx.call,
      );
      if (ctx.json) writeJson(ctx.io, toJson(SignalWorkflowResponseSchema, res, REST_JSON));
      else ctx.io.out.write(`Sent signal "${signalName}" to ${res.workflowId} (run ${res.runId})\n`);
      return 0;
    },
  },
  query: {
    usage: "<workflow_id> <query>",
    summary: "run a query on a run and print its result",
    options: { ...INPUT_OPTION, ...RUN_OPTION },
    help: [INPUT_HELP, RUN_HELP],
    async run(ctx) {
      const [workflowId, queryName] = ctx.args;
      const input = await readInput(ctx, "input");
      const res = await ctx.fg.workflows.queryWorkflow({ workflowId, runId: str(ctx.values["run-id"]), queryName, input: value(input) }, ctx.call);
      if (ctx.json) writeJson(ctx.io, toJson(QueryWorkflowResponseSchema, res, REST_JSON));
      else ctx.io.out.write(`${showValue(res.result && toJson(ValueSchema, res.result))}\n`);
      return 0;
    },
  },
  update: {
    usage: "<workflow_id> <update>",
    summary: "run an update on a run, wait for it, and print its result",
    options: { ...INPUT_OPTION, ...RUN_OPTION, "request-id": { type: "string" } },
    help: [INPUT_HELP, RUN_HELP, "--request-id <id>     retries of this update with the same id run it once"],
    async run(ctx) {
      const [workflowId, updateName] = ctx.args;
      const input = await readInput(ctx, "input");
      const res = await ctx.fg.workflows.updateWorkflow(
        { workflowId, runId: str(ctx.values["run-id"]), updateName, input: value(input), requestId: str(ctx.values["request-id"]) },
        ctx.call,
      );
      if (ctx.json) writeJson(ctx.io, toJson(UpdateWorkflowResponseSchema, res, REST_JSON));
      else ctx.io.out.write(`${showValue(res.result && toJson(ValueSchema, res.result))}\n`);
      return 0;
    },
  },
  stop: {
    usage: "<workflow_id>",
    summary: "ask a run to cancel, or --terminate it at once",
    options: { ...RUN_OPTION, terminate: { type: "boolean" }, reason: { type: "string" } },
    help: [RUN_HELP, "--terminate           end it at once (the workflow cannot clean up)", "--reason <text>       recorded in the run's history"],
    async run(ctx) {
      const terminate = ctx.values.terminate === true;
      const res = await ctx.fg.workflows.stopWorkflow({ workflowId: ctx.args[0]!, runId: str(ctx.values["run-id"]), terminate, reason: str(ctx.values.reason) }, ctx.call);
      if (ctx.json) writeJson(ctx.io, toJson(StopWorkflowResponseSchema, res, REST_JSON));
      else ctx.io.out.write(`${terminate ? "Terminated" : "Asked to cancel"} ${res.workflowId} (run ${res.runId})\n`);
      return 0;
    },
  },
  list: {
    usage: "",
    summary: "list runs, newest first",
    options: { query: { type: "string", short: "q" }, type: { type: "string" }, status: { type: "string" }, limit: { type: "string" }, "page-token": { type: "string" } },
    help: [
      "--query, -q <text>    a Temporal visibility query (WorkflowType = 'greet' AND ...)",
      "--type <name>         runs of this workflow type",
      "--status <status>     running, completed, failed, canceled, terminated, timed_out, ...",
      "--limit <n>           at most n runs (1-1000); --page-token continues a listing",
    ],
    async run(ctx) {
      const res = await ctx.fg.workflows.listWorkflows(
        {
          query: str(ctx.values.query),
          workflowType: str(ctx.values.type),
          status: parseStatus(str(ctx.values.status)),
          pageSize: ctx.values.limit === undefined ? undefined : integer("--limit", str(ctx.values.limit)!),
          pageToken: str(ctx.values["page-token"]),
        },
        ctx.call,
      );
      if (ctx.json) {
        writeJson(ctx.io, toJson(ListWorkflowsResponseSchema, res, REST_JSON));
        return 0;
      }
      ctx.io.out.write(table(["WORKFLOW ID", "TYPE", "STATUS", "STARTED"], res.workflows.map((w) => [w.workflowId, w.workflowType, statusName(w.status), time(w.startTime) ?? ""])));
      if (res.nextPageToken) ctx.io.err.write(`more runs: --page-token ${res.nextPageToken}\n`);
      return 0;
    },
  },
  types: {
    usage: "",
    summary: "the workflow types this Flowgate starts, with their signals, queries and updates",
    async run(ctx) {
      const res = await ctx.fg.workflows.listWorkflowTypes({}, ctx.call);
      if (ctx.json) {
        writeJson(ctx.io, toJson(ListWorkflowTypesResponseSchema, res, REST_JSON));
        return 0;
      }
      const handlers = (kind: string, list: readonly { name: string }[]) => (list.length === 0 ? [] : [`${kind}: ${list.map((h) => h.name).join(", ")}`]);
      ctx.io.out.write(
        table(
          ["TYPE", "TASK QUEUE", "HANDLERS", "DESCRIPTION"],
          res.workflowTypes.map((t) => [t.name, t.taskQueue, [...handlers("signals", t.signals), ...handlers("queries", t.queries), ...handlers("updates", t.updates)].join("; "), headline(t.description)]),
        ),
      );
      return 0;
    },
  },
  publish: {
    usage: "<event_file>",
    summary: "publish a CloudEvent (JSON, from a file or - for standard input); its triggers start workflows",
    options: { "event-id": { type: "string" } },
    help: ["--event-id <id>       the event's id for retries (the CloudEvent's own id when absent)"],
    async run(ctx) {
      const text = await readSource(ctx, ctx.args[0]!, "<event_file>");
      const event = parseMessage("<event_file>", () => fromJson(CloudEventSchema, parseJson("<event_file>", text) as JsonValue));
      const res = await ctx.events.publishEvent({ eventId: str(ctx.values["event-id"]), event }, ctx.call);
      if (ctx.json) {
        writeJson(ctx.io, toJson(PublishEventResponseSchema, res, REST_JSON));
        return 0;
      }
      ctx.io.out.write(`Event ${res.eventId}: ${res.status}\n`);
      for (const f of res.fired) ctx.io.out.write(`  ${f.triggerId}: ${f.alreadyStarted ? "already started" : "started"} ${f.workflowType} ${f.workflowId} (run ${f.runId})\n`);
      return 0;
    },
  },
  "config get": {
    usage: "<config_id>",
    summary: "print a stored configuration (its version goes to standard error)",
    async run(ctx) {
      const res = await ctx.configs.getConfig({ configId: ctx.args[0]! }, ctx.call);
      if (ctx.json) {
        writeJson(ctx.io, toJson(GetConfigResponseSchema, res, REST_JSON));
        return 0;
      }
      ctx.io.err.write(`# ${res.configId}: version ${res.version}, updated ${time(res.updateTime) ?? "never"}\n`);
      writeJson(ctx.io, res.config ?? {}, true);
      return 0;
    },
  },
  "config set": {
    usage: "<config_id> [file]",
    summary: "store a configuration: a JSON object from a file, - for standard input, or --value",
    options: { value: { type: "string" }, merge: { type: "boolean" }, "expected-version": { type: "string" } },
    help: [
      "--value <json>        the configuration as JSON text, instead of a file",
      "--merge               merge it into the stored one (JSON merge patch) instead of replacing it",
      "--expected-version <n>  refuse (aborted) unless the stored version is n: 0 when it must be new",
    ],
    async run(ctx) {
      const [configId, file] = ctx.args;
      if ((file === undefined) === (ctx.values.value === undefined)) throw new UsageError("config set needs the configuration: a [file] (- for standard input) or --value, not both");
      const text = file === undefined ? str(ctx.values.value)! : await readSource(ctx, file, "[file]");
      const where = file === undefined ? "--value" : "[file]";
      const config = parseJson(where, text);
      if (config === null || typeof config !== "object" || Array.isArray(config)) throw new UsageError(`${where} must be a JSON object`);
      const expected = str(ctx.values["expected-version"]);
      const res = await ctx.configs.updateConfig(
        {
          configId,
          config: config as JsonObject,
          expectedVersion: expected === undefined ? undefined : integer("--expected-version", expected),
          mode: ctx.values.merge === true ? UpdateMode.MERGE_PATCH : UpdateMode.REPLACE,
        },
        ctx.call,
      );
      if (ctx.json) writeJson(ctx.io, toJson(UpdateConfigResponseSchema, res, REST_JSON));
      else ctx.io.out.write(`Saved ${res.configId}: version ${res.version}\n`);
      return 0;
    },
  },
};

const SUBCOMMANDS = new Set(Object.keys(COMMANDS).filter((name) => name.includes(" ")).map((name) => name.split(" ")[0]!));

/** Runs one command line (without `node` and the script) and returns the process's exit code. */
export async function runCli(argv: readonly string[], io: Io, env: NodeJS.ProcessEnv = process.env, stdin: () => Promise<string> = readStdin): Promise<number> {
  let json = argv.includes("--json");
  try {
    argv = commandFirst(argv);
    const [first, second] = argv;
    if (first === undefined || first === "help" || first === "--help" || first === "-h") {
      io.out.write(mainHelp());
      return first === undefined ? EXIT_USAGE : 0;
    }
    if (first === "--version") {
      io.out.write(`${await version()}\n`);
      return 0;
    }
    const name = SUBCOMMANDS.has(first) ? `${first} ${second ?? ""}` : first;
    const command = COMMANDS[name];
    if (command === undefined) {
      throw new UsageError(SUBCOMMANDS.has(first) ? `"${first}" needs one of: ${subcommandsOf(first).join(", ")}` : `unknown command "${first}" (flowgate --help lists them)`);
    }
    const rest = argv.slice(name.split(" ").length);
    const parsed = parseCommandLine(name, command, rest);
    json = parsed.values.json === true;
    if (parsed.values.help === true) {
      io.out.write(commandHelp(name, command));
      return 0;
    }
    const url = str(parsed.values.url) ?? (env.FLOWGATE_URL || "http://localhost:8000");
    if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--url must be an http:// or https:// URL, not "${url}"`);
    const apiKey = str(parsed.values["api-key"]) ?? (env.FLOWGATE_API_KEY || undefined);
    const timeout = str(parsed.values.timeout);
    const timeoutMs = timeout === undefined ? undefined : seconds("--timeout", timeout) * 1000;
    const transport = createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors: [credentials({ apiKey })] });
    return await command.run({
      io,
      values: parsed.values,
      args: parsed.positionals,
      json,
      call: { timeoutMs },
      timeoutMs,
      fg: createFlowgateClient({ transport }),
      events: createClient(EventsService, transport),
      configs: createClient(ConfigService, transport),
      stdin,
    });
  } catch (err) {
    return reportError(io, json, err);
  }
}

/** The options of every command may come before it too (`flowgate --url X types`): moved after it. */
function commandFirst(argv: readonly string[]): readonly string[] {
  const before: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith("--") && argv[i] !== "--help" && argv[i] !== "--version") {
    const name = argv[i]!.slice(2).split("=")[0]!;
    const option = (GLOBAL_OPTIONS as Options)[name];
    if (option === undefined) break;
    const takesValue = option.type === "string" && !argv[i]!.includes("=");
    before.push(...argv.slice(i, i + (takesValue ? 2 : 1)));
    i += takesValue ? 2 : 1;
  }
  if (before.length === 0 || i >= argv.length) return argv;
  const command = argv.slice(i);
  const words = SUBCOMMANDS.has(command[0]!) ? 2 : 1;
  return [...command.slice(0, words), ...before, ...command.slice(words)];
}

function parseCommandLine(name: string, command: Command, rest: readonly string[]): { values: Values; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\. To specify a positional argument.*$/s, "")} (flowgate ${name} --help)`);
  }
  const values = parsed.values as Values;
  if (values.help === true) return { values, positionals: parsed.positionals };
  const wanted = command.usage.split(" ").filter((p) => p !== "");
  const required = wanted.filter((p) => p.startsWith("<"));
  if (parsed.positionals.length < required.length) throw new UsageError(`flowgate ${name} needs ${required.slice(parsed.positionals.length).join(" ")}`);
  if (parsed.positionals.length > wanted.length) throw new UsageError(`flowgate ${name} takes ${wanted.length === 0 ? "no arguments" : wanted.join(" ")}, not "${parsed.positionals.slice(wanted.length).join(" ")}"`);
  return { values, positionals: parsed.positionals };
}

function reportError(io: Io, json: boolean, err: unknown): number {
  if (err instanceof UsageError) {
    if (json) io.err.write(`${JSON.stringify({ code: "usage", message: err.message })}\n`);
    else io.err.write(`flowgate: ${err.message}\n`);
    return EXIT_USAGE;
  }
  const error = ConnectError.from(err);
  // Connect's name of the code (`invalid_argument`), as its JSON errors and Flowgate's error table have it.
  const code = codeToString(error.code);
  if (json) io.err.write(`${JSON.stringify({ code, message: error.rawMessage })}\n`);
  else io.err.write(`flowgate: ${code}: ${error.rawMessage}\n`);
  return error.code;
}

async function watchRun(ctx: Context, workflowId: string, runId: string): Promise<number> {
  const progress = new ProgressLine(ctx.io);
  const aborted = new AbortController();
  const interrupt = () => {
    progress.end();
    aborted.abort();
  };
  process.once("SIGINT", interrupt);
  const timeout = ctx.timeoutMs === undefined ? undefined : AbortSignal.timeout(ctx.timeoutMs);
  const signal = timeout === undefined ? aborted.signal : AbortSignal.any([aborted.signal, timeout]);
  let last: WatchWorkflowResponse | undefined;
  try {
    for await (const event of ctx.fg.run(workflowId, runId).watch({ signal })) {
      last = event;
      if (ctx.json) {
        writeJson(ctx.io, toJson(WatchWorkflowResponseSchema, event, REST_JSON));
        continue;
      }
      if (event.type === WorkflowEventType.PROGRESS && event.progress) progress.set(event.progress.percent, event.progress.message || event.progress.step);
      if (CLOSED_EVENTS.has(event.type)) progress.end();
      progress.print(eventLine(event));
    }
  } catch (err) {
    progress.end();
    if (aborted.signal.aborted) return 130;
    if (timeout?.aborted === true) throw notEnded(ctx);
    throw err;
  } finally {
    process.removeListener("SIGINT", interrupt);
  }
  progress.end();
  return last?.type === WorkflowEventType.COMPLETED ? 0 : EXIT_RUN_NOT_COMPLETED;
}

const CLOSED_EVENTS = new Set([WorkflowEventType.COMPLETED, WorkflowEventType.FAILED, WorkflowEventType.CANCELED, WorkflowEventType.TERMINATED, WorkflowEventType.TIMED_OUT]);

/** One event for a person: its time, its kind, and what it is about. */
function eventLine(event: WatchWorkflowResponse): string {
  const kind = (WorkflowEventType[event.type] ?? "UNSPECIFIED").padEnd(20);
  const at = event.time ? timestampDate(event.time).toTimeString().slice(0, 8) : "        ";
  let about: string;
  switch (event.type) {
    case WorkflowEventType.PROGRESS:
      about = `${event.progress?.percent === undefined ? "" : `${Math.round(event.progress.percent)}% `}${event.progress?.message || event.progress?.step || ""}`;
      break;
    case WorkflowEventType.WAITING_FOR_INPUT:
      about = `${event.inputRequest?.name ?? event.name}${event.inputRequest?.prompt ? `: ${event.inputRequest.prompt}` : ""}`;
      break;
    case WorkflowEventType.FAILED:
    case WorkflowEventType.ACTIVITY_FAILED:
    case WorkflowEventType.ACTIVITY_RETRIED:
      about = `${event.name}${event.failure ? `: ${event.failure.message}` : ""}`;
      break;
    case WorkflowEventType.CONTINUED_AS_NEW:
      about = `new run ${event.newRunId}`;
      break;
    default:
      about = event.data === undefined || event.name !== "" ? event.name : JSON.stringify(toJson(ValueSchema, event.data));
  }
  if (event.type === WorkflowEventType.COMPLETED && event.data !== undefined) about = JSON.stringify(toJson(ValueSchema, event.data));
  return `${at}  ${kind}${about}`.trimEnd();
}

/** The run's outcome, asked for again each minute until it ends (or --timeout passes). */
async function waitForEnd(ctx: Context, workflowId: string, runId: string): Promise<GetWorkflowResultResponse> {
  const deadline = ctx.timeoutMs === undefined ? Infinity : Date.now() + ctx.timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) throw notEnded(ctx);
    const waitMs = Math.min(60_000, left);
    const res = await ctx.fg.workflows.getWorkflowResult(
      { workflowId, runId, wait: { seconds: BigInt(Math.floor(waitMs / 1000)), nanos: (waitMs % 1000) * 1_000_000 } },
      { timeoutMs: waitMs + 10_000 },
    );
    if (res.status !== WorkflowStatus.RUNNING && res.status !== WorkflowStatus.UNSPECIFIED) return res;
  }
}

const notEnded = (ctx: Context) => new ConnectError(`the run had not ended after --timeout ${(ctx.timeoutMs ?? 0) / 1000} s; it goes on`, Code.DeadlineExceeded);

function printOutcome(ctx: Context, res: GetWorkflowResultResponse): number {
  const completed = res.status === WorkflowStatus.COMPLETED;
  if (ctx.json) writeJson(ctx.io, toJson(GetWorkflowResultResponseSchema, res, REST_JSON));
  else if (res.outcome.case === "result") ctx.io.out.write(`${showValue(toJson(ValueSchema, res.outcome.value))}\n`);
  else if (completed) ctx.io.out.write("null\n");
  else ctx.io.err.write(`flowgate: ${res.workflowId} (run ${res.runId}) ended ${statusName(res.status)}${res.outcome.case === "failure" ? `: ${res.outcome.value.message}` : ""}\n`);
  return completed ? 0 : EXIT_RUN_NOT_COMPLETED;
}

/** The value of an `--input`-like option: JSON text, `@file`, or `-` for standard input; undefined when absent. */
async function readInput(ctx: Context, option: string): Promise<JsonValue | undefined> {
  const given = str(ctx.values[option]);
  if (given === undefined) return undefined;
  const text = given === "-" ? await ctx.stdin() : given.startsWith("@") ? await readSource(ctx, given.slice(1), `--${option}`) : given;
  return parseJson(`--${option}`, text) as JsonValue;
}

async function readSource(ctx: Context, file: string, what: string): Promise<string> {
  if (file === "-") return ctx.stdin();
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message}`);
  }
}

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what} is not JSON: ${(err as Error).message}`);
  }
}

function parseMessage<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError(`${what}: ${(err as Error).message}`);
  }
}

function value(input: JsonValue | undefined): MessageInitShape<typeof ValueSchema> | undefined {
  return input === undefined ? undefined : fromJson(ValueSchema, input);
}

function parseStatus(text: string | undefined): WorkflowStatus | undefined {
  if (text === undefined) return undefined;
  const status = (WorkflowStatus as unknown as Record<string, WorkflowStatus | undefined>)[text.toUpperCase()];
  if (status === undefined || status === WorkflowStatus.UNSPECIFIED) {
    const names = Object.keys(WorkflowStatus).filter((k) => Number.isNaN(Number(k)) && k !== "UNSPECIFIED");
    throw new UsageError(`--status must be one of ${names.map((n) => n.toLowerCase()).join(", ")}, not "${text}"`);
  }
  return status;
}

function integer(option: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 2147483647) throw new UsageError(`${option} must be a whole number from 0 to 2147483647, not "${text}"`);
  return Number(text);
}

function seconds(option: string, text: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0) throw new UsageError(`${option} must be a number of seconds above 0, not "${text}"`);
  return n;
}

/** A description's first clause, for a table row (flowgate types --json has all of it). */
function headline(description: string): string {
  const first = description.split(/(?<=\.)\s|[:;(]/)[0]!.trim().replace(/[.,]$/, "");
  return first.length > 70 ? `${first.slice(0, 69)}…` : first;
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === "string" ? v : undefined);
const statusName = (status: WorkflowStatus) => WorkflowStatus[status] ?? "UNSPECIFIED";
const time = (t: Timestamp | undefined) => (t === undefined ? undefined : timestampDate(t).toISOString());

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL("../../../package.json", import.meta.url), "utf8").catch(() => readFile(new URL("../../package.json", import.meta.url), "utf8"))) as { version: string };
  return pkg.version;
}

function subcommandsOf(group: string): string[] {
  return Object.keys(COMMANDS)
    .filter((name) => name.startsWith(`${group} `))
    .map((name) => name.slice(group.length + 1));
}

function mainHelp(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => [`${name} ${c.usage}`.trimEnd(), c.summary]);
  rows.push(["serve", "run the Flowgate server (as npm start; configured by its environment)"]);
  const width = Math.max(...rows.map(([left]) => left!.length));
  return [
    "flowgate: start, watch and control Temporal workflows through a Flowgate server",
    "",
    "Usage: flowgate <command> [arguments] [options]",
    "",
    "Commands:",
    ...rows.map(([left, right]) => `  ${left!.padEnd(width)}  ${right}`),
    "",
    "Options of every command:",
    "  --url <url>           the Flowgate server (FLOWGATE_URL; default http://localhost:8000)",
    "  --api-key <key>       sent as Authorization: Bearer <key> (FLOWGATE_API_KEY)",
    "  --json                print the response as JSON (events one per line); errors as JSON on stderr",
    "  --timeout <seconds>   a deadline for each call",
    "  --help, -h            help for a command: flowgate <command> --help",
    "",
    "Exit codes: 0 success; 1-16 the Connect code of a failed call (3 invalid_argument, 5 not_found,",
    "14 unavailable, 16 unauthenticated, ...); 64 a mistake on the command line; 65 a run that ended",
    "without completing (failed, canceled, terminated, timed out) when the command waited for it.",
    "",
  ].join("\n");
}

function commandHelp(name: string, command: Command): string {
  return [`Usage: flowgate ${name} ${command.usage} [options]`.replace(/\s+\[options\]$/, " [options]").replace("  ", " "), "", `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`, "", ...(command.help ?? []).map((line) => (line.startsWith("--") ? `  ${line}` : line)), "", "flowgate --help lists the options of every command.", ""].join("\n");
}
