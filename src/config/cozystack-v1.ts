/**
 * The `cozystackV1` section of platform.yaml: what the `cozystack-v1.6` profile needs beyond
 * the common settings (the platform variant, the enable/disable lists of the platform
 * Package, and the Flux source our packages are published as). Its type, JSON Schema,
 * defaults and cross-field rules live together here (its type with the others, in types.ts).
 */
import { issue } from "./errors.js";
import type { ConfigIssue, CozystackV1Config, PackagesSourceConfig } from "./types.js";

const packageName = { type: "string", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "x-hint": "a package name like cozystack.velero" };

/** JSON Schema of the section. */
export const cozystackV1Schema = {
  type: "object",
  additionalProperties: false,
  required: ["source"],
  description: "CozyStack v1.x settings, read by profile cozystack-v1.6.",
  properties: {
    variant: { enum: ["isp-full", "isp-full-generic"], default: "isp-full", description: "Variant of the cozystack.cozystack-platform Package." },
    source: {
      type: "object",
      additionalProperties: false,
      required: ["url"],
      description: "The Flux source our packages folder is published as.",
      properties: {
        kind: { enum: ["OCIRepository", "GitRepository"], default: "OCIRepository", description: "Flux source kind: an OCI artifact or a Git repository." },
        url: {
          type: "string",
          maxLength: 2048,
          pattern: "^(oci|https|ssh)://[^\\s]+$",
          "x-hint": "oci://registry/repo, https://git.example/repo.git or ssh://…",
          description: "Where the packages folder is published.",
        },
        tag: { type: "string", minLength: 1, maxLength: 128, description: "Tag of the artifact or repository. Default for an OCIRepository: latest." },
        branch: { type: "string", minLength: 1, maxLength: 255, description: "Branch (GitRepository only). Default for a GitRepository without tag: main." },
        path: { type: "string", minLength: 1, maxLength: 4096, default: "/", description: "Folder inside the source that holds system/ and apps/." },
      },
    },
    enabledPackages: { type: "array", items: packageName, uniqueItems: true, default: [], description: "bundles.enabledPackages." },
    disabledPackages: { type: "array", items: packageName, uniqueItems: true, default: [], description: "bundles.disabledPackages, besides KubeVirt's." },
  },
} as const;

type Raw = Record<string, unknown>;

/** The section with its defaults, or undefined when absent. */
export function normalizeCozystackV1(value: unknown): CozystackV1Config | undefined {
  if (!value || typeof value !== "object") return undefined;
  const raw = value as Raw;
  const src = (raw.source && typeof raw.source === "object" ? raw.source : {}) as Raw;
  const kind = (src.kind as PackagesSourceConfig["kind"] | undefined) ?? "OCIRepository";
  const tag = src.tag as string | undefined;
  const branch = src.branch as string | undefined;
  return {
    variant: (raw.variant as CozystackV1Config["variant"] | undefined) ?? "isp-full",
    source: {
      kind,
      url: src.url as string,
      ...(tag !== undefined ? { tag } : branch === undefined && kind === "OCIRepository" ? { tag: "latest" } : {}),
      ...(branch !== undefined ? { branch } : tag === undefined && kind === "GitRepository" ? { branch: "main" } : {}),
      path: (src.path as string | undefined) ?? "/",
    },
    enabledPackages: (raw.enabledPackages as string[] | undefined) ?? [],
    disabledPackages: (raw.disabledPackages as string[] | undefined) ?? [],
  };
}

/** Cross-field rules: the v1.6 profile needs the section, the v0.37 one does not read it, the URL fits the kind. */
export function cozystackV1Issues(profile: string, section: CozystackV1Config | undefined): ConfigIssue[] {
  const v1 = profile === "cozystack-v1.6";
  if (!section) return v1 ? [issue(["cozystackV1"], undefined, `is required by profile ${profile}: the Flux source (source.url) our packages are published as`)] : [];
  if (!v1) return [issue(["cozystackV1"], "(set)", `is read only by profile cozystack-v1.6; profile ${profile} would ignore it`)];
  const { kind, url, branch } = section.source;
  const issues: ConfigIssue[] = [];
  if (typeof url === "string" && kind === "OCIRepository" && !url.startsWith("oci://")) {
    issues.push(issue(["cozystackV1", "source", "url"], url, "an OCIRepository URL starts with oci://"));
  }
  if (typeof url === "string" && kind === "GitRepository" && url.startsWith("oci://")) {
    issues.push(issue(["cozystackV1", "source", "url"], url, "a GitRepository URL is https:// or ssh://"));
  }
  if (kind === "OCIRepository" && branch !== undefined) {
    issues.push(issue(["cozystackV1", "source", "branch"], branch, "an OCIRepository has tags, not branches"));
  }
  return issues;
}
