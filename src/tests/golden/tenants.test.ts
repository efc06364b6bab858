/**
 * Golden files of whole synthesized tenant outputs. Update them after an intended change with
 * `UPDATE_GOLDEN=1 npx vitest run src/tests/golden` and review the diff.
 * Each case is the built-in default config or a platform.yaml in cases/.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { renderTenants } from "../../capi/index.js";
import { defaultConfig, parseConfig, type PlatformConfig } from "../../config/index.js";
import { validateObjects } from "../../crds/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const goldenDir = join(here, "__golden__");
const update = process.env.UPDATE_GOLDEN === "1";

const cases: [string, () => PlatformConfig][] = [
  ["default", defaultConfig],
  ...readdirSync(join(here, "cases"))
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f): [string, () => PlatformConfig] => [f.replace(/\.yaml$/, ""), () => parseConfig(readFileSync(join(here, "cases", f), "utf8"), f)]),
];

describe.each(cases)("golden tenant output: %s", (name, config) => {
  const files = renderTenants(config());
  const dir = join(goldenDir, name);

  if (update) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of files) writeFileSync(join(dir, file), text);
  }

  it("has one golden file per tenant", () => {
    expect(existsSync(dir), `${dir} missing: run with UPDATE_GOLDEN=1`).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([...files.keys()].sort());
  });

  it.each([...files.keys()])("%s matches its golden file byte for byte", (file) => {
    expect(files.get(file)).toBe(readFileSync(join(dir, file), "utf8"));
  });

  it("validates strictly against the CRDs, object by object", () => {
    const config_ = config();
    const objects = [...files.values()].flatMap((text) => parseAllDocuments(text).map((d) => d.toJS() as unknown));
    expect(objects.length).toBeGreaterThan(0);
    expect(validateObjects(objects, { profile: config_.profile })).toEqual([]);
  });
});
