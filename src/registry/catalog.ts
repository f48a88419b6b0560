// What the API knows about each workflow type it may start. The worker runs the code (src/workflows/*.ts);
// the API only needs this metadata, so it never loads workflow code.

/** A workflow type the gateway accepts in StartWorkflow and RunWorkflow. */
export interface WorkflowTypeInfo {
  /** Temporal workflow type name, as clients spell it in `workflow_type`. */
  readonly name: string;
  /** One line on what it does, for people and for ListWorkflowTypes. */
  readonly description: string;
  /** Task queue its workers poll; the server's default queue when absent. */
  readonly taskQueue?: string;
  /**
   * True when the workflow takes several arguments: the request's `input` must then be a JSON array whose
   * items are passed as the arguments. Otherwise `input` is passed as the one argument.
   */
  readonly spreadArgs?: boolean;
}

/** The sample workflows that ship with Flowgate and that `npm start` runs a worker for. */
export const SAMPLE_WORKFLOWS: readonly WorkflowTypeInfo[] = [
  { name: "greet", description: 'Greets someone: {"name": "Ada"} -> {"greeting": "Hello, Ada!"}.' },
  {
    name: "sleep",
    description: 'Sleeps on a durable timer, then reports it: {"seconds": 5} -> {"slept_seconds": 5}.',
  },
];
