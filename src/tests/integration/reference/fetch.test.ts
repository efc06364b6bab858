/**
 * `npm run fetch-reference`: the shared reference data copied into a cache from a folder or
 * an archive (checked, all or nothing), and the CozyStack checkout refused unless its tag is
 * the pinned commit. The successful CozyStack fetch needs the repository: it runs when
 * COZYSTACK_GIT names a clone or mirror of it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, sharedDir } from "../../../paths.js";
import { CheckoutError, cozystackPin, fetchCozystackCheckout, fetchReference, findCozystackCheckout, ReferenceError } from "../../../reference/index.js";

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "fetch-reference-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const shared = sharedDir();

describe("shared reference data", () => {
  it("copies a shared/ folder into the cache and checks it", async () => {
    const dest = join(tmp, "from-folder");
    const lines: string[] = [];
    const reference = await fetchReference({ from: shared, dest, log: (l) => lines.push(l) });
    expect(reference).toBe(join(dest, "reference"));
    const schema = "pve/apidata-pve9.1.flat.json";
    expect(readFileSync(join(reference, schema))).toEqual(readFileSync(join(shared, "reference", schema)));
    expect(lines.at(-1)).toContain(reference);
  });

  it("takes a .tar.gz whose top folder holds reference/", async () => {
    const archive = join(tmp, "shared.tar.gz");
    await execa("tar", ["-czf", archive, "-C", dirname(shared), `${shared.split("/").pop()}/reference`]);
    const reference = await fetchReference({ from: archive, dest: join(tmp, "from-archive") });
    expect(existsSync(join(reference, "crds"))).toBe(true);
  });

  it("refuses a tampered vendored asset, naming it, and leaves no copy behind", async () => {
    const copy = join(tmp, "tampered");
    await execa("cp", ["-r", join(shared, "reference"), copy]);
    const file = join(copy, "vendor", "capmox-v0.7.7", "metadata.yaml");
    writeFileSync(file, `${readFileSync(file, "utf8")}# changed\n`);
    const dest = join(tmp, "dest-tampered");
    const error = await fetchReference({ from: copy, dest }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/vendor\/capmox-v0\.7\.7\/metadata\.yaml: sha256 [0-9a-f]{64} does not match the pinned 66a57b68/);
    expect(existsSync(join(dest, "reference"))).toBe(false);
  });

  it("refuses an incomplete folder, naming the missing files", async () => {
    const partial = join(tmp, "partial", "reference");
    mkdirSync(join(partial, "crds"), { recursive: true });
    mkdirSync(join(partial, "pve"));
    const error = await fetchReference({ from: join(tmp, "partial"), dest: join(tmp, "dest-partial") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReferenceError);
    expect((error as Error).message).toMatch(/missing .*pve\/apidata-pve9\.1\.flat\.json/);
  });

  it("names a bad --from", async () => {
    await expect(fetchReference({ from: join(tmp, "nope"), dest: join(tmp, "d1") })).rejects.toThrow(/--from .*nope: no such file or folder/);
    await expect(fetchReference({ from: "ftp://example.invalid/x.tgz", dest: join(tmp, "d2") })).rejects.toThrow(/only https:\/\//);
    writeFileSync(join(tmp, "not.tar.gz"), "plain text");
    await expect(fetchReference({ from: join(tmp, "not.tar.gz"), dest: join(tmp, "d3") })).rejects.toThrow(/not a \.tar\.gz archive/);
  });
});

describe("CozyStack checkout", () => {
  it("refuses a repository whose tag is not the pinned commit, and writes nothing", async () => {
    const repo = join(tmp, "fake-cozystack");
    mkdirSync(join(repo, "packages/core/platform"), { recursive: true });
    writeFileSync(join(repo, "packages/core/platform/Chart.yaml"), "apiVersion: v2\nname: cozy-platform\nversion: 0.0.0\n");
    const git = (...args: string[]) => execa("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd: repo });
    await git("init", "-q");
    await git("add", ".");
    await git("commit", "-qm", "fake");
    await git("tag", cozystackPin.version);
    const dest = join(tmp, "checkout-fake");
    const error = await fetchCozystackCheckout({ source: repo, dest }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckoutError);
    expect((error as Error).message).toMatch(new RegExp(`tag ${cozystackPin.version} is commit [0-9a-f]{40}, expected ${cozystackPin.commit}`));
    expect(existsSync(dest)).toBe(false);
    expect(findCozystackCheckout({ COZYSTACK_CHECKOUT: dest })).toBeUndefined();
  });

  it("says what failed when the source is not a repository, without a token in the URL", async () => {
    const error = await fetchCozystackCheckout({ source: "https://user:s3cret@127.0.0.1:1/cozystack.git", dest: join(tmp, "checkout-bad") }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/fetching tag v0\.37\.10 from https:\/\/127\.0\.0\.1:1\/cozystack\.git failed/);
    expect((error as Error).message).not.toContain("s3cret");
  });

  it.skipIf(!process.env.COZYSTACK_GIT)("fetches the pinned release from COZYSTACK_GIT", async () => {
    const dest = join(tmp, "checkout-real");
    await fetchCozystackCheckout({ source: process.env.COZYSTACK_GIT, dest });
    expect(readFileSync(join(dest, ".cozystack-commit"), "utf8").split("\n")[0]).toBe(cozystackPin.commit);
    expect(findCozystackCheckout({ COZYSTACK_CHECKOUT: dest })).toBe(dest);
    expect(existsSync(join(dest, "packages/core/platform/templates/helmreleases.yaml"))).toBe(true);
    expect(existsSync(join(dest, "scripts/installer.sh"))).toBe(true);
  });
});

describe("npm run fetch-reference", () => {
  it("exits 2 naming a bad flag", async () => {
    const result = await execa("npx", ["tsx", "scripts/fetch-reference.ts", "--bogus"], { cwd: repoRoot, reject: false });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--bogus/);
    expect(result.stderr).toMatch(/usage: npm run fetch-reference/);
  });
});
