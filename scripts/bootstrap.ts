#!/usr/bin/env tsx
/** `npm run bootstrap -- [...]`: see src/cli/bootstrap.ts. */
import { bootstrapMain } from "../src/cli/bootstrap.js";

try {
  process.exitCode = await bootstrapMain(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
} catch (error) {
  // Unexpected: the message only (a stack could quote objects that hold the secret).
  process.stderr.write(`bootstrap: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
