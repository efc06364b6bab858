/** `npm run synth`: see src/cli/synth.ts. */
import { runSynth } from "../src/cli/synth.js";

const code = await runSynth(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
process.exitCode = code;
