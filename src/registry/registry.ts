import { Code, ConnectError } from "@connectrpc/connect";
import type { WorkflowTypeInfo } from "./catalog.js";

/** The workflow types the API accepts, by name. */
export class WorkflowRegistry {
  private readonly byName: ReadonlyMap<string, WorkflowTypeInfo>;

  constructor(types: readonly WorkflowTypeInfo[]) {
    this.byName = new Map(types.map((t) => [t.name, t]));
  }

  list(): readonly WorkflowTypeInfo[] {
    return [...this.byName.values()];
  }

  /** The type's metadata; InvalidArgument naming the field and the known types when it is not registered. */
  require(name: string): WorkflowTypeInfo {
    const info = this.byName.get(name);
    if (info === undefined) {
      const known = [...this.byName.keys()].sort().join(", ") || "none";
      throw new ConnectError(
        `workflow_type: "${name}" is not a registered workflow type (registered: ${known})`,
        Code.InvalidArgument,
      );
    }
    return info;
  }

  /** The workflow's arguments from the request's JSON input. */
  argsFor(info: WorkflowTypeInfo, input: unknown): unknown[] {
    if (input === undefined) return [];
    if (info.spreadArgs !== true) return [input];
    if (!Array.isArray(input)) {
      throw new ConnectError(
        `input: workflow type "${info.name}" takes several arguments, so input must be a JSON array`,
        Code.InvalidArgument,
      );
    }
    return input;
  }
}
