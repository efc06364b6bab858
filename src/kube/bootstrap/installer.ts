/**
 * CozyStack's installer manifest: read from a file, or from an https URL the user passed
 * (TLS verified by Node's fetch); split into objects; ordered so that what others depend
 * on (Namespaces, CRDs, accounts and RBAC) is applied first.
 */
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../object.js";

export interface InstallerManifest {
  /** File path or URL, as given. */
  readonly source: string;
  readonly objects: readonly KubeObject[];
}

/** Fetch function (tests pass one that serves a local file). @default global fetch */
export type Fetch = (url: string) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** Reads and parses the manifest; errors name the source and the document. */
export async function loadInstallerManifest(source: string, fetchText: Fetch = fetch): Promise<InstallerManifest> {
  let text: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    if (!source.startsWith("https://")) {
      throw new Error(`--installer: ${JSON.stringify(source)} is not an https URL (only https is fetched; or give a file)`);
    }
    let response: Awaited<ReturnType<Fetch>>;
    try {
      response = await fetchText(source);
    } catch (error) {
      throw new Error(`--installer: cannot fetch ${source}: ${(error as Error).message}`, { cause: error });
    }
    if (!response.ok) throw new Error(`--installer: GET ${source}: HTTP ${response.status}`);
    text = await response.text();
  } else {
    try {
      text = await readFile(source, "utf8");
    } catch (error) {
      throw new Error(`--installer: cannot read ${source}: ${(error as Error).message}`, { cause: error });
    }
  }
  return { source, objects: parseManifest(text, source) };
}

/** Objects of a multi-document YAML manifest (`List` kinds are flattened). */
export function parseManifest(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  parseAllDocuments(text).forEach((doc, index) => {
    if (doc.errors.length > 0) throw new Error(`${source}: document ${index + 1}: ${doc.errors[0]?.message.split("\n")[0]}`);
    const value = doc.toJS() as KubeObject | null;
    if (value === null || value === undefined) return;
    const items = value.kind === "List" && Array.isArray(value["items"]) ? (value["items"] as KubeObject[]) : [value];
    for (const item of items) {
      if (typeof item !== "object" || !item.apiVersion || !item.kind || !item.metadata?.name) {
        throw new Error(`${source}: document ${index + 1} lacks apiVersion, kind or metadata.name`);
      }
      objects.push(item);
    }
  });
  if (objects.length === 0) throw new Error(`${source}: no Kubernetes objects in the manifest`);
  return objects;
}

/** Kinds that others need first, in the order Helm installs them. */
const kindOrder = [
  "Namespace",
  "CustomResourceDefinition",
  "PriorityClass",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "Service",
];

/** Stable sort: known kinds in `kindOrder`, every other kind after them in manifest order. */
export function applyOrder(objects: readonly KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject): number => {
    const i = kindOrder.indexOf(o.kind);
    return i < 0 ? kindOrder.length : i;
  };
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i)
    .map(({ o }) => o);
}
