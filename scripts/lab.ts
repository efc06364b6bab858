/** `npm run lab -- [...]`: see src/cli/lab.ts. */
import { labMain } from "../src/cli/lab.js";

process.exitCode = await labMain(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
