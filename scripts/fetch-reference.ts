#!/usr/bin/env tsx
/** `npm run fetch-reference -- [...]`: see src/cli/fetch-reference.ts. */
import { fetchReferenceMain } from "../src/cli/fetch-reference.js";

process.exitCode = await fetchReferenceMain(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
