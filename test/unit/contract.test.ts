// The contract itself: every Flowgate proto file tells other languages' generators where its code goes, so
// Go, Java, C#, PHP, Ruby and Objective-C users generate clients without extra flags.
import type { DescFile } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { file_flowgate_config_v1_config } from "../../gen/flowgate/config/v1/config_pb.js";
import { file_flowgate_config_v1_config_service } from "../../gen/flowgate/config/v1/config_service_pb.js";
import { file_flowgate_events_v1_events } from "../../gen/flowgate/events/v1/events_pb.js";
import { file_flowgate_events_v1_events_service } from "../../gen/flowgate/events/v1/events_service_pb.js";
import { file_flowgate_workflow_v1_workflow } from "../../gen/flowgate/workflow/v1/workflow_pb.js";
import { file_flowgate_workflow_v1_workflow_service } from "../../gen/flowgate/workflow/v1/workflow_service_pb.js";

const FILES: readonly DescFile[] = [
  file_flowgate_workflow_v1_workflow,
  file_flowgate_workflow_v1_workflow_service,
  file_flowgate_events_v1_events,
  file_flowgate_events_v1_events_service,
  file_flowgate_config_v1_config,
  file_flowgate_config_v1_config_service,
];

describe.each(FILES.map((f) => [f.name, f] as const))("%s", (_name, file) => {
  it("declares its package for every language buf lint checks", () => {
    const options = file.proto.options!;
    // flowgate.workflow.v1 -> .../flowgate/workflow/v1;workflowv1, dev.flowgate.workflow.v1, Flowgate.Workflow.V1
    const [area, version] = file.proto.package.split(".").slice(1) as [string, string];
    expect(options.goPackage).toBe(`github.com/flowgate/flowgate/clients/go/flowgate/${area}/${version};${area}${version}`);
    expect(options.javaPackage).toBe(`dev.flowgate.${area}.${version}`);
    expect(options.javaMultipleFiles).toBe(true);
    expect(options.javaOuterClassname).toMatch(/Proto$/);
    const pascal = `Flowgate.${area[0]!.toUpperCase()}${area.slice(1)}.${version.toUpperCase()}`;
    expect(options.csharpNamespace).toBe(pascal);
    expect(options.phpNamespace).toBe(pascal.replaceAll(".", "\\"));
    expect(options.rubyPackage).toBe(pascal.replaceAll(".", "::"));
    expect(options.objcClassPrefix).toMatch(/^[A-Z]{3}$/);
  });
});
