/**
 * Fills `.cache/shared/reference` for users who cloned the project without the `shared/`
 * folder beside it. The reference data (upstream CRDs, the Proxmox API schema, recorded
 * response shapes, CozyStack's reference bundles, vendored release assets) is not the
 * project's, so it is never committed; this copies it from where the team publishes it:
 * a folder, a `.tar.gz` file, or an HTTPS URL of one. The copy is checked (required files,
 * SHA-256 of the vendored assets) and appears whole or not at all.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { allFilePins, verifySha256 } from "../cozystack/index.js";
import { cacheDir } from "../paths.js";
import { replaceFolderSync } from "../files/index.js";

/** Files every part of the project reads; a source without one of them is refused. */
export const requiredReferenceFiles = [
  "crds/capmox-v0.7.7-infrastructure.cluster.x-k8s.io_proxmoxmachinetemplates.yaml",
  "crds/kamaji-capi-v0.19.0-controlplane.cluster.x-k8s.io_kamajicontrolplanes.yaml",
  "crds/cozystack-v0.37.10-cozystack.io_cozystackresourcedefinitions.yaml",
  "pve/apidata-pve9.1.flat.json",
  "pve/apidata-pve8.4.flat.json",
  "cozystack-v0.37.10/paas-full.yaml",
  "cozystack-v0.37.10/system-charts.tsv",
  "cozystack-v0.37.10/apps-kubernetes-values.schema.json",
  // The management environment's CRDs, webhooks and manager args (src/mgmt/components.ts).
  "cozystack-v0.37.10/release/packages/system/capi-providers-core/files/core-components.yaml",
  "cozystack-v0.37.10/release/packages/system/capi-providers-bootstrap/files/bootstrap-components.yaml",
  "cozystack-v0.37.10/release/packages/system/capi-providers-cpprovider/files/control-plane-components.yaml",
  // The real-chart tests: the platform chart and the resource-definitions chart.
  "cozystack-v0.37.10/release/packages/core/platform/templates/helmreleases.yaml",
  "cozystack-v0.37.10/release/packages/system/cozystack-resource-definitions/templates/cozyrds.yaml",
] as const;

export class ReferenceError extends Error {
  override readonly name = "ReferenceError";
}

export interface FetchReferenceOptions {
  /** A `shared/` or `shared/reference/` folder, a `.tar.gz` of one, or an HTTPS URL of that archive. */
  readonly from: string;
  /** @default `.cache/shared` */
  readonly dest?: string;
  readonly log?: (line: string) => void;
}

/** Copies and checks the reference data; returns the `reference/` folder written. */
export async function fetchReference(options: FetchReferenceOptions): Promise<string> {
  const dest = options.dest ?? join(cacheDir, "shared");
  const log = options.log ?? (() => undefined);
  mkdirSync(dest, { recursive: true });
  const work = mkdtempSync(join(dest, ".fetch-"));
  try {
    const unpacked = await unpack(options.from, work, log);
    const reference = locateReference(unpacked, options.from);
    checkReference(reference);
    const target = join(dest, "reference");
    replaceFolderSync(reference, target);
    log(`reference data in ${target}`);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The source as a folder inside `work` (a copy, so a check failure leaves nothing behind). */
async function unpack(from: string, work: string, log: (line: string) => void): Promise<string> {
  const out = join(work, "src");
  mkdirSync(out);
  let archive = from;
  if (/^https:\/\//i.test(from)) {
    log(`downloading ${from}`);
    const res = await fetch(from, { redirect: "follow" }).catch((error: unknown) => {
      throw new ReferenceError(`GET ${from}: ${(error as Error).message}`, { cause: error });
    });
    if (!res.ok) throw new ReferenceError(`GET ${from}: HTTP ${res.status} ${res.statusText}`);
    archive = join(work, "reference.tar.gz");
    writeFileSync(archive, Buffer.from(await res.arrayBuffer()));
  } else if (/^[a-z]+:\/\//i.test(from)) {
    throw new ReferenceError(`--from ${from}: only https:// URLs, folders and .tar.gz files are accepted`);
  } else if (!existsSync(from)) {
    throw new ReferenceError(`--from ${from}: no such file or folder`);
  } else if (statSync(from).isDirectory()) {
    cpSync(from, out, { recursive: true });
    return out;
  }
  await execa("tar", ["-xzf", archive, "-C", out]).catch((error: unknown) => {
    throw new ReferenceError(`--from ${from}: not a .tar.gz archive (${(error as { stderr?: string }).stderr?.trim() ?? ""})`, { cause: error });
  });
  return out;
}

/** Accepts `reference/` itself, a folder holding it, or one more level (an archive's top folder). */
function locateReference(root: string, from: string): string {
  const candidates = [root, join(root, "reference"), ...topFolders(root).map((d) => join(root, d, "reference"))];
  const found = candidates.find((dir) => existsSync(join(dir, "crds")) && existsSync(join(dir, "pve")));
  if (!found) throw new ReferenceError(`--from ${from}: no reference/ folder (with crds/ and pve/) found in it`);
  return found;
}

function topFolders(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
}

/** Refuses a reference folder that lacks a required file or whose vendored assets fail their sums (VendorError). */
export function checkReference(reference: string): void {
  const missing = requiredReferenceFiles.filter((f) => !existsSync(join(reference, f)));
  if (missing.length > 0) throw new ReferenceError(`reference data incomplete: missing ${missing.join(", ")}`);
  for (const pin of allFilePins()) {
    const file = join(reference, "vendor", pin.path);
    if (!existsSync(file)) continue; // vendored assets are optional: `npm run vendor` downloads them
    verifySha256(readFileSync(file), pin.sha256, `vendor/${pin.path}`);
  }
}
