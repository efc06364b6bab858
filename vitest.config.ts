import { defineConfig } from "vitest/config";

// Two tiers: unit (pure model/render code, golden files) and integration (the operate
// layer against the lab and a real kube-apiserver on loopback). `npm test` runs both.
export default defineConfig({
  test: {
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
          fileParallelism: false,
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
