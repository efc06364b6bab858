/**
 * The pinned upstream CRDs in shared/reference/crds: which file defines which group/kind,
 * and each file's versions with their openAPIV3Schema. Files are parsed on first use only;
 * the index comes from a cheap scan of the text.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { referencePath } from "../paths.js";

/** One CRD file: the group and kind it defines. */
export interface CrdFile {
  /** File name, e.g. `capmox-v0.7.7-infrastructure.cluster.x-k8s.io_proxmoxclusters.yaml`. */
  readonly file: string;
  readonly path: string;
  readonly group: string;
  readonly kind: string;
}

export interface CrdVersion {
  readonly name: string;
  readonly served: boolean;
  readonly storage: boolean;
  readonly schema: Record<string, unknown>;
}

/** The parsed document of a CRD file (only the parts we use). */
export interface CrdDocument {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec: {
    readonly group: string;
    readonly names: { readonly kind: string; readonly plural: string };
    readonly scope: string;
    readonly versions: readonly { name: string; served: boolean; storage: boolean; schema?: { openAPIV3Schema?: Record<string, unknown> } }[];
  };
}

const catalogs = new Map<string, CrdFile[]>();
const documents = new Map<string, CrdDocument>();

/** The CRD files of a folder (default: shared/reference/crds), sorted by name. */
export function crdCatalog(dir: string = referencePath("crds")): readonly CrdFile[] {
  const cached = catalogs.get(dir);
  if (cached) return cached;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const text = readFileSync(path, "utf8");
      // controller-gen layout: spec.group at two spaces, spec.names.kind is the first key `kind` at four.
      const group = /^ {2}group: (\S+)$/m.exec(text)?.[1];
      const kind = /^ {4}kind: (\S+)$/m.exec(text)?.[1];
      if (!group || !kind) throw new Error(`${path}: not a CustomResourceDefinition (no spec.group / spec.names.kind)`);
      return { file, path, group, kind };
    });
  catalogs.set(dir, files);
  return files;
}

/** The parsed CRD of a catalog entry (cached). */
export function loadCrd(entry: CrdFile): CrdDocument {
  let doc = documents.get(entry.path);
  if (!doc) {
    doc = parse(readFileSync(entry.path, "utf8"), { maxAliasCount: -1 }) as CrdDocument;
    if (doc?.kind !== "CustomResourceDefinition") throw new Error(`${entry.path}: not a CustomResourceDefinition`);
    documents.set(entry.path, doc);
  }
  return doc;
}

/** One version of a CRD with its schema; undefined when the file does not define it. */
export function crdVersion(entry: CrdFile, version: string): CrdVersion | undefined {
  const v = loadCrd(entry).spec.versions.find((x) => x.name === version);
  const schema = v?.schema?.openAPIV3Schema;
  return v && schema ? { name: v.name, served: v.served, storage: v.storage, schema } : undefined;
}

/** Catalog entries for a group/kind, optionally only files whose name starts with `source-`. */
export function findCrds(group: string, kind: string, source?: string, dir?: string): CrdFile[] {
  return crdCatalog(dir).filter((e) => e.group === group && e.kind === kind && (!source || e.file.startsWith(`${source}-`)));
}
