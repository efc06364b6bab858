#!/usr/bin/env tsx
// The management environment for a person (see src/cli/mgmt-up.ts).
import { mgmtUpMain } from "../src/cli/mgmt-up.js";

try {
  process.exitCode = await mgmtUpMain(process.argv.slice(2));
} catch (error) {
  console.error(`mgmt:up: ${(error as Error).message}`);
  process.exitCode = 1;
}
