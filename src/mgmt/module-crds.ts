/**
 * Kubernetes objects from YAML files on disk: the components files of a release, the CRD
 * bases of a Go module in the module cache (`go build` put them there), the CRDs
 * controller-gen generated. One reader for all of them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../kube/index.js";

/** Every object of a multi-document YAML file (empty documents and non-objects left out). */
export function yamlObjects(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(file, "utf8"))
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((doc): doc is KubeObject => doc !== null && typeof doc === "object" && typeof doc.kind === "string");
}

/** Every object of the `.yaml` files of a folder, files in name order. */
export function yamlFolderObjects(dir: string): KubeObject[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((f) => yamlObjects(join(dir, f)));
}

/** Where `go` keeps module sources (`go env GOMODCACHE`). */
function goModCache(): string {
  try {
    return execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).trim();
  } catch (cause) {
    throw new Error("cannot find the Go module cache (`go env GOMODCACHE` failed); the controllers' CRDs are read from it", { cause });
  }
}

/** Module paths in the module cache spell capitals as `!` + lower case. */
const escapeModulePath = (path: string): string => path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);

/** The CRD bases of a module version, from the module cache. */
export function moduleCrds(module: string, version: string): KubeObject[] {
  const dir = join(goModCache(), `${escapeModulePath(module)}@${version}`, "config", "crd", "bases");
  if (!existsSync(dir)) {
    throw new Error(`${dir} is missing: the module ${module}@${version} is not in the Go module cache; run \`npm run tools\``);
  }
  return yamlFolderObjects(dir);
}
