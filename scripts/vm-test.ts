/** `npm run vm-test -- [...]`: see src/cli/vm-test.ts. */
import { vmTestMain } from "../src/cli/vm-test.js";

try {
  process.exitCode = await vmTestMain(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
} catch (error) {
  process.stderr.write(`vm-test: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
