import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSynthArgs, UsageError } from "../../../cli/synth.js";
import { repoRoot } from "../../../paths.js";

describe("parseSynthArgs", () => {
  it("defaults to dist/ and bundles/paas-proxmox.yaml under the repo, and resolves paths against cwd", () => {
    expect(parseSynthArgs([], "/elsewhere")).toEqual({
      kind: "synth",
      outDir: join(repoRoot, "dist"),
      bundleFile: join(repoRoot, "bundles", "paas-proxmox.yaml"),
      check: false,
    });
    expect(parseSynthArgs(["--config", "p.yaml", "--out", "o", "--check"], "/w")).toMatchObject({ configFile: "/w/p.yaml", outDir: "/w/o", check: true });
  });

  it("prints the default config only when asked for nothing else", () => {
    expect(parseSynthArgs(["--print-default-config"], "/w")).toEqual({ kind: "print-default-config" });
    for (const extra of [["--check"], ["--config", "p.yaml"], ["--out", "o"]]) {
      expect(() => parseSynthArgs(["--print-default-config", ...extra], "/w")).toThrow(UsageError);
    }
    expect(() => parseSynthArgs(["--print-default-config", "--config", "p.yaml", "--check"], "/w")).toThrow(
      "--print-default-config takes no other option (got --config, --check)",
    );
  });

  it("refuses unknown options, positionals and empty values", () => {
    expect(() => parseSynthArgs(["--outdir", "x"], "/w")).toThrow(/Unknown option '--outdir'/);
    expect(() => parseSynthArgs(["platform.yaml"], "/w")).toThrow(UsageError);
    expect(() => parseSynthArgs(["--config", ""], "/w")).toThrow("--config needs a non-empty value");
  });
});
