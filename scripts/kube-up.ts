#!/usr/bin/env tsx
// A real API server for a person (see src/cli/kube-up.ts).
import { kubeUpMain } from "../src/cli/kube-up.js";

try {
  process.exitCode = await kubeUpMain(process.argv.slice(2));
} catch (error) {
  console.error(`kube:up: ${(error as Error).message}`);
  process.exitCode = 1;
}
