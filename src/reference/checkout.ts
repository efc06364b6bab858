/**
 * A partial checkout of CozyStack v0.37.10 in the cache: the two files the overlay patch
 * changes (the installer script and the resource-definitions chart). The opt-in test
 * applies the whole patch to them; the installer script is the one file of the release that
 * shared/reference does not carry (its `cozystack-v0.37.10/release` holds the platform
 * chart, the system charts' Chart.yaml and the provider components, read by every test
 * run). CozyStack is not project data, so it is never committed; `npm run fetch-reference`
 * fetches it from git (GitHub, or a local clone) and checks that the tag is the commit
 * pinned here.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { cacheDir } from "../paths.js";
import { replaceFolderSync } from "../files/index.js";

/** The CozyStack release the bundle format and the patch are written for. */
export const cozystackPin = {
  version: "v0.37.10",
  commit: "cb44a01754e2362d2414349ef871f85f2ee68864",
  repository: "https://github.com/cozystack/cozystack.git",
  /** What the tests read; git pathspecs. */
  paths: ["packages/system/cozystack-resource-definitions", "scripts/installer.sh"],
} as const;

/** Written last into a complete checkout: which commit and paths it holds. */
const marker = ".cozystack-commit";
const markerText = `${cozystackPin.commit}\n${cozystackPin.paths.join("\n")}\n`;

export class CheckoutError extends Error {
  override readonly name = "CheckoutError";
}

/** Where the checkout lives: `COZYSTACK_CHECKOUT` if set, else `.cache/cozystack/<version>`. */
export function cozystackCheckoutDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.COZYSTACK_CHECKOUT || join(cacheDir, "cozystack", cozystackPin.version);
}

/**
 * The checkout directory when it holds the pinned release, else undefined. A directory
 * named by `COZYSTACK_CHECKOUT` (a full clone, say) counts when it has the installer script.
 */
export function findCozystackCheckout(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = cozystackCheckoutDir(env);
  if (env.COZYSTACK_CHECKOUT) return existsSync(join(dir, "scripts/installer.sh")) ? dir : undefined;
  const file = join(dir, marker);
  // A checkout of other paths (an older pin) is fetched again.
  return existsSync(file) && readFileSync(file, "utf8") === markerText ? dir : undefined;
}

export interface FetchCheckoutOptions {
  /** A git URL or the path of a local clone (bare or not). @default the GitHub repository */
  readonly source?: string;
  /** @default cozystackCheckoutDir() */
  readonly dest?: string;
  readonly log?: (line: string) => void;
}

/**
 * Fetches the pinned tag (depth 1) into a scratch repository, refuses it unless it is the
 * pinned commit, and extracts the paths the tests read. The checkout appears whole or not
 * at all: it is assembled beside the destination and renamed into place.
 */
export async function fetchCozystackCheckout(options: FetchCheckoutOptions = {}): Promise<string> {
  const source = options.source ?? cozystackPin.repository;
  // The cache, never COZYSTACK_CHECKOUT: that names the user's own clone, which this replaces.
  const dest = options.dest ?? cozystackCheckoutDir({});
  const log = options.log ?? (() => undefined);
  mkdirSync(dirname(dest), { recursive: true });
  const work = mkdtempSync(join(dirname(dest), ".fetch-"));
  try {
    const repo = join(work, "repo");
    const out = join(work, "out");
    mkdirSync(out);
    await git(["init", "-q", "--bare", repo], "git init");
    log(`fetching CozyStack ${cozystackPin.version} from ${redactUrl(source)}`);
    await git(["--git-dir", repo, "fetch", "-q", "--depth", "1", source, `refs/tags/${cozystackPin.version}`], `fetching tag ${cozystackPin.version} from ${redactUrl(source)}`);
    const { stdout: commit } = await git(["--git-dir", repo, "rev-parse", "FETCH_HEAD^{commit}"], "git rev-parse");
    if (commit.trim() !== cozystackPin.commit) {
      throw new CheckoutError(
        `${redactUrl(source)}: tag ${cozystackPin.version} is commit ${commit.trim()}, expected ${cozystackPin.commit}; refusing a moved tag`,
      );
    }
    const archive = join(work, "paths.tar");
    await git(["--git-dir", repo, "archive", "--format=tar", "-o", archive, "FETCH_HEAD", "--", ...cozystackPin.paths], "git archive");
    await execa("tar", ["-xf", archive, "-C", out]);
    writeFileSync(join(out, marker), markerText);
    replaceFolderSync(out, dest);
    log(`CozyStack ${cozystackPin.version} (${cozystackPin.commit.slice(0, 12)}) in ${dest}`);
    return dest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Runs git; a failure names what was being done and keeps git's own words. */
async function git(args: readonly string[], doing: string): Promise<{ stdout: string }> {
  try {
    // Never stop to ask for a password: a private mirror needs its credentials set up beforehand.
    return await execa("git", args, { env: { GIT_TERMINAL_PROMPT: "0" } });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new CheckoutError(redactUrl(`${doing} failed: ${stderr || (error as Error).message}`), { cause: error });
  }
}

/** URLs in `text` without user and password (a token in a clone URL must not reach a log). */
function redactUrl(text: string): string {
  return text.replace(/([a-z+]+:\/\/)[^@/\s]*@/gi, "$1");
}
