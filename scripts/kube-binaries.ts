#!/usr/bin/env tsx
// Builds or reuses the real kube-apiserver and etcd (see src/cli/kube-binaries.ts).
import { kubeBinariesMain } from "../src/cli/kube-binaries.js";

try {
  process.exitCode = await kubeBinariesMain(process.argv.slice(2));
} catch (error) {
  console.error(`kube:binaries: ${(error as Error).message}`);
  process.exitCode = 1;
}
