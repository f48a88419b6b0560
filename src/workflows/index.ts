// Workflow code, bundled by the worker into Temporal's deterministic sandbox. No Node built-ins here.
export { greet, sleep } from "./samples.js";
export type { GreetInput, GreetOutput, SleepInput, SleepOutput } from "./samples.js";
