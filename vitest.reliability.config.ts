// `npm run test:reliability`: faults and load against real servers (Temporal killed and restarted, Flowgate
// killed under load, fuzzing, a soak). Slower than `npm test`, and run by .ci/run after it.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    name: "reliability",
    include: ["test/reliability/**/*.test.ts"],
    // The same shared Temporal dev server and worker as the integration tests; some tests add their own.
    globalSetup: ["test/helpers/global-setup.ts"],
    // One file at a time: each measures timing, and two would share the machine's two cores.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 600_000,
  },
});
