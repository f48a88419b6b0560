import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The examples import Flowgate by its package name, as an application does; tests run them on the source.
const flowgateAlias = [{ find: /^flowgate$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) }];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        resolve: { alias: flowgateAlias },
        test: {
          name: "integration",
          // e2e runs src/main.ts as `npm start` does; it reuses the Temporal CLI this setup installs.
          include: ["test/integration/**/*.test.ts", "test/e2e/**/*.test.ts"],
          // One Temporal dev server and one worker for the whole run (test/helpers/global-setup.ts).
          globalSetup: ["test/helpers/global-setup.ts"],
          testTimeout: 60_000,
          // First run on a fresh machine installs the Temporal CLI and builds grpcurl.
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
