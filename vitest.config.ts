import { defineConfig } from "vitest/config";
import RealControllersFirst from "./src/tests/support/sequencer.js";

// Two tiers: unit (pure model/render code, golden files) and integration (the operate
// layer against the lab and a real kube-apiserver on loopback). `npm test` runs both.
export default defineConfig({
  test: {
    // Vitest's default is one worker less than the cores, so one on the 2-core CI machine.
    // Most of an integration test waits (capmox's 10 s requeue, lab tasks, controllers'
    // watches) rather than computes: four files side by side keep the two cores about 80%
    // busy and take `npm test` from 21.5 min to about 7. Each file has its own servers on free
    // ports and its own temp folders, so files do not share state.
    maxWorkers: 4,
    sequence: { sequencer: RealControllersFirst },
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/tests/unit/**/*.test.ts", "src/tests/golden/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["src/tests/integration/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          globalSetup: ["src/tests/support/binaries-setup.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["src/tests/e2e/**/*.test.ts"],
          testTimeout: 900_000,
        },
      },
    ],
  },
});
