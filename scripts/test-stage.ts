/** `npm run test:stage -- <N|all> [...]`: see src/cli/test-stage.ts. */
import { testStageMain } from "../src/cli/test-stage.js";

try {
  process.exitCode = await testStageMain(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
} catch (error) {
  process.stderr.write(`test:stage: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
