/** `npm run tenant-access -- [...]`: see src/cli/tenant-access.ts. */
import { tenantAccessMain } from "../src/cli/tenant-access.js";

try {
  process.exitCode = await tenantAccessMain(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
} catch (error) {
  process.stderr.write(`tenant-access: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
