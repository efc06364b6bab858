/**
 * `--print-default-config`: the built-in default as commented YAML, a starting point like
 * `kubeadm config print init-defaults`. The comments are the JSON Schema's descriptions, so
 * they cannot drift from what the loader accepts; it parses back to the same config.
 */
import { Document, isMap, isScalar, isSeq, type Node } from "yaml";
import { defaultConfig } from "./defaults.js";
import { configJsonSchema } from "./schema.js";
import type { PlatformConfig, ProxmoxConfig, TemplateRef } from "./types.js";

type Schema = Record<string, unknown>;

/** The proxmox section as a user writes it: the template without its `kind` tag. */
function userProxmox(p: ProxmoxConfig): Record<string, unknown> {
  const { template, talosTemplate, ...rest } = p;
  const userForm = ({ kind: _kind, ...fields }: TemplateRef): Record<string, unknown> => fields;
  return { ...rest, template: userForm(template), ...(talosTemplate ? { talosTemplate: userForm(talosTemplate) } : {}) };
}

/** A config in the form platform.yaml is written in. */
export function toUserForm(config: PlatformConfig): Record<string, unknown> {
  return { ...config, proxmox: userProxmox(config.proxmox) };
}

function describe(node: Node | null, schema: Schema | undefined): void {
  if (!schema) return;
  if (isSeq(node)) {
    for (const item of node.items) describe(item as Node, schema.items as Schema | undefined);
    return;
  }
  if (!isMap(node)) return;
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const order = Object.keys(properties);
  // keys in the schema's order: related fields stay together whatever order the object had
  node.items.sort((a, b) => order.indexOf(String((a.key as { value?: unknown }).value)) - order.indexOf(String((b.key as { value?: unknown }).value)));
  for (const pair of node.items) {
    const key = pair.key;
    if (!isScalar(key)) continue;
    const child = properties[String(key.value)];
    if (typeof child?.description === "string") key.commentBefore = ` ${child.description}`;
    describe(pair.value as Node, child);
  }
  node.comment = optionalNotSet(node.items.map((pair) => String((pair.key as { value?: unknown }).value)), properties);
}

/** The schema's fields this map leaves out, each with its description, so a reader knows they exist. */
function optionalNotSet(present: readonly string[], properties: Record<string, Schema>): string | null {
  const describedOf = (key: string): string | undefined => (typeof properties[key]?.description === "string" ? String(properties[key].description) : undefined);
  const absent = Object.keys(properties).filter((key) => !present.includes(key) && describedOf(key) !== undefined);
  if (absent.length === 0) return null;
  const lines = absent.map((key) => `   ${key}: ${describedOf(key) ?? ""}`);
  return [" Also possible here, not set in this config:", ...lines].join("\n");
}

const header = [
  " Platform description for `npm run synth` (CozyStack v0.37 or v1.6 on Proxmox VE).",
  " This is the built-in default: the lab's default scenario (`npm run lab`).",
  " Save it, edit it, and pass it with `npm run synth -- --config platform.yaml`.",
  " The token secret is never written here: proxmox.secret names where it comes from.",
  " yaml-language-server: $schema=dist/platform.schema.json",
].join("\n");

/** The commented YAML of a config (by default the built-in one). */
export function printConfig(config: PlatformConfig = defaultConfig()): string {
  const doc = new Document(toUserForm(config), { aliasDuplicateObjects: false });
  doc.commentBefore = header;
  describe(doc.contents, configJsonSchema());
  return doc.toString({ lineWidth: 0 });
}
