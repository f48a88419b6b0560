import { defineConfig } from "vitest/config";

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
