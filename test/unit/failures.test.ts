// A failure's stack trace as clients receive it: where the workflow threw, without the worker's directories.
import { describe, expect, it } from "vitest";
import { withoutDirectories } from "../../src/temporal/failures.js";

describe("withoutDirectories", () => {
  it.each([
    ["a TypeScript worker", "Error: boom\n    at fail (/srv/app/node_modules/x/failure.ts:254:11)\n    at run (/srv/app/src/workflows.ts:8:27)", "Error: boom\n    at fail (failure.ts:254:11)\n    at run (workflows.ts:8:27)"],
    ["a file URL", "at x (file:///srv/app/dist/w.js:1:2)", "at x (w.js:1:2)"],
    ["a Python worker", '  File "/usr/lib/python3.11/site-packages/temporalio/_workflow.py", line 12, in run', '  File "_workflow.py", line 12, in run'],
    ["a Go worker", "main.OrderWorkflow(...)\n\t/go/src/github.com/acme/orders/workflow.go:42 +0x1d", "main.OrderWorkflow(...)\n\tworkflow.go:42 +0x1d"],
    ["a Windows worker", "at y (C:\\Users\\me\\app\\w.ts:3:4)", "at y (w.ts:3:4)"],
    ["a frame without a function name", "    at /srv/app/dist/index.js:10:5", "    at index.js:10:5"],
    ["an async frame", "    at async run (file:///srv/my app/w.ts:3:4)", "    at async run (w.ts:3:4)"],
    ["paths with spaces", '  File "/srv/my app/order worker.py", line 20, in run\n    at x (/srv/my app/w.ts:1:2)', '  File "order worker.py", line 20, in run\n    at x (w.ts:1:2)'],
    ["a home-relative path", "    at y (~/app/w.ts:3:4)", "    at y (w.ts:3:4)"],
  ])("cuts the locations of %s to file names", (_who, trace, expected) => {
    expect(withoutDirectories(trace)).toBe(expected);
  });

  it("leaves what is not a stack frame alone, such as the message above the frames", () => {
    const text = "GET /api/v1/users/42 failed: relative a/b.ts, ratios 1/2, x=c:/d/e, http://example.com/x.js and 10/20/30";
    expect(withoutDirectories(text)).toBe(text);
    expect(withoutDirectories(`Error: cannot open /etc/app/conf.yaml\n    at load (/srv/app/config.ts:1:2)`)).toBe(
      "Error: cannot open /etc/app/conf.yaml\n    at load (config.ts:1:2)",
    );
  });
});
