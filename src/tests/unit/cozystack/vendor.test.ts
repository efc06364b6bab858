import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  allFilePins,
  capmoxPins,
  csiChartPin,
  readPinnedFile,
  readVendoredChart,
  referenceVendorDir,
  sha256,
  vendorAll,
  VendorError,
} from "../../../cozystack/index.js";

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "vendor-test-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const pin = capmoxPins["v0.7.7"]!;

/** A copy of shared/reference/vendor with one file altered. */
function tamperedReference(path: string): string {
  const ref = join(tmp, "reference");
  for (const p of allFilePins()) {
    mkdirSync(dirname(join(ref, p.path)), { recursive: true });
    copyFileSync(join(referenceVendorDir()!, p.path), join(ref, p.path));
  }
  writeFileSync(join(ref, path), `${readFileSync(join(ref, path), "utf8")}# extra line\n`);
  return ref;
}

describe("vendored artifacts", () => {
  it("reads the pinned capmox components from shared/reference and checks their sum", () => {
    const data = readPinnedFile(pin.components, join(tmp, "empty"));
    expect(sha256(data)).toBe("831e3debeb677e9a73183dc858e9fd673f4346c18dafeb4cddee62823c059589");
    expect(data.toString()).toContain("image: ghcr.io/ionos-cloud/cluster-api-provider-proxmox:v0.7.7");
  });

  it("refuses a vendored file whose sum does not match, naming both sums", () => {
    const file = join(tmp, pin.components.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, "kind: Tampered\n");
    expect(() => readPinnedFile(pin.components, tmp)).toThrow(VendorError);
    expect(() => readPinnedFile(pin.components, tmp)).toThrow(
      new RegExp(`${sha256("kind: Tampered\n")} does not match the pinned ${pin.components.sha256}`),
    );
  });

  it("vendors the release assets from the reference copy", async () => {
    const out = join(tmp, "out");
    const results = await vendorAll({ vendorDir: out, referenceDir: referenceVendorDir(), lockPath: join(tmp, "lock.json"), skipCharts: true });
    expect(results.map((r) => r.path)).toEqual(allFilePins().map((p) => p.path));
    for (const p of allFilePins()) expect(sha256(readFileSync(join(out, p.path)))).toBe(p.sha256);
  });

  it("stops the vendor step on a reference file with the wrong sum and does not write it", async () => {
    const ref = tamperedReference(pin.metadata.path);
    const out = join(tmp, "out");
    await expect(vendorAll({ vendorDir: out, referenceDir: ref, lockPath: join(tmp, "lock.json"), skipCharts: true })).rejects.toThrow(
      /capmox-v0.7.7\/metadata.yaml: sha256 [0-9a-f]{64} does not match the pinned 66a57b68/,
    );
    expect(existsSync(join(out, pin.metadata.path))).toBe(false);
  });

  it("checks downloads against the pinned sum", async () => {
    const out = join(tmp, "out");
    const urls: string[] = [];
    const download = async (url: string): Promise<Buffer> => {
      urls.push(url);
      return Buffer.from("not the release asset");
    };
    await expect(vendorAll({ vendorDir: out, referenceDir: join(tmp, "none"), lockPath: join(tmp, "lock.json"), skipCharts: true, download })).rejects.toThrow(
      VendorError,
    );
    expect(urls).toEqual([pin.components.url]);
  });

  it("records a chart's sum on first pull and refuses a different archive later", async () => {
    const lockPath = join(tmp, "lock.json");
    const out = join(tmp, "out");
    const archive = Buffer.from("first pull");
    const opts = { vendorDir: out, referenceDir: referenceVendorDir(), lockPath, pullChart: async () => archive };
    await vendorAll(opts);
    const lock = JSON.parse(readFileSync(lockPath, "utf8")) as { charts: Record<string, string> };
    expect(lock.charts[csiChartPin.path]).toBe(sha256(archive));
    expect(readVendoredChart(csiChartPin, out, lock.charts)).toEqual(archive);

    await expect(vendorAll({ ...opts, pullChart: async () => Buffer.from("changed upstream") })).rejects.toThrow(/does not match the pinned/);
    // A cached archive altered after the pull is refused too.
    writeFileSync(join(out, csiChartPin.path), "altered");
    expect(() => readVendoredChart(csiChartPin, out, lock.charts)).toThrow(VendorError);
    expect(() => readVendoredChart(csiChartPin, out, {})).toThrow(/no sha256 recorded/);
  });
});
