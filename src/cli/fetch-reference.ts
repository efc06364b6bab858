/**
 * `npm run fetch-reference -- [--from <folder|archive.tar.gz|https-url>] [--cozystack-git <url|path>] [--skip-cozystack]`
 *
 * Fills the cache with data the project reads but does not own:
 * - `.cache/shared/reference`, for a clone without `../shared` beside it (`--from`);
 * - `.cache/cozystack/v0.37.10`, the parts of CozyStack's repository that the real-chart
 *   tests render and patch (from GitHub by default; `--cozystack-git` names a mirror or a
 *   local clone). Without it, those tests are skipped.
 * Exit 0 when done, 1 when a fetch or a check failed, 2 on usage errors.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { repoRoot } from "../paths.js";
import { cozystackCheckoutDir, cozystackPin, fetchCozystackCheckout, fetchReference, findCozystackCheckout } from "../reference/index.js";
import { parseCommandLine, runCommand, withUsage } from "./command.js";

export const fetchReferenceUsage =
  "usage: npm run fetch-reference -- [--from <folder|archive.tar.gz|https-url>] [--cozystack-git <url|path>] [--skip-cozystack]";

interface FetchArgs {
  readonly from?: string;
  readonly cozystackGit?: string;
  readonly skipCozystack: boolean;
}

/** Where the command writes; `stdout` gets the progress, `stderr` the mistakes. */
export interface FetchReferenceIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

function parse(argv: readonly string[]): FetchArgs | "help" {
  const { values } = parseCommandLine({
    args: [...argv],
    options: { from: { type: "string" }, "cozystack-git": { type: "string" }, "skip-cozystack": { type: "boolean" }, help: { type: "boolean" } },
  });
  if (values.help) return "help";
  return {
    ...(values.from === undefined ? {} : { from: values.from }),
    ...(values["cozystack-git"] === undefined ? {} : { cozystackGit: values["cozystack-git"] }),
    skipCozystack: values["skip-cozystack"] === true,
  };
}

/** The command: usage mistakes exit 2 (src/cli/command.ts), a failed fetch or check 1, done 0. */
export function fetchReferenceMain(argv: readonly string[], io: FetchReferenceIo): Promise<number> {
  return runCommand("fetch-reference", fetchReferenceUsage, io.stderr, async () => {
    const args = withUsage(() => parse(argv));
    if (args === "help") {
      io.stdout.write(`${fetchReferenceUsage}\n`);
      return 0;
    }
    const log = (line: string): void => void io.stdout.write(`${line}\n`);
    try {
      if (!(await referenceData(args, log))) {
        io.stderr.write(`fetch-reference: no reference data beside the project (${besideDir()}); give --from <folder|archive.tar.gz|https-url>\n${fetchReferenceUsage}\n`);
        return 1;
      }
      await cozystackCheckout(args, log);
      return 0;
    } catch (error) {
      io.stderr.write(`fetch-reference: ${(error as Error).message}\n`);
      return 1;
    }
  });
}

function besideDir(): string {
  return resolve(repoRoot, "..", "shared", "reference");
}

/** The reference data: fetched with --from, else found beside the project or in the cache; false when there is none. */
async function referenceData(args: FetchArgs, log: (line: string) => void): Promise<boolean> {
  if (args.from) {
    await fetchReference({ from: args.from, log });
    return true;
  }
  if (existsSync(besideDir())) {
    log(`reference data: using ${besideDir()}`);
    return true;
  }
  return existsSync(join(repoRoot, ".cache", "shared", "reference"));
}

/** CozyStack's checkout: skipped, already there, or fetched. */
async function cozystackCheckout(args: FetchArgs, log: (line: string) => void): Promise<void> {
  if (args.skipCozystack) {
    log("CozyStack checkout: skipped (--skip-cozystack)");
  } else if (!args.cozystackGit && findCozystackCheckout({})) {
    log(`CozyStack ${cozystackPin.version}: already in ${cozystackCheckoutDir({})}`);
  } else {
    await fetchCozystackCheckout({ source: args.cozystackGit, log });
  }
}
