/**
 * Bootstrap's preflight: the cluster answers and runs a supported Kubernetes, the Proxmox
 * checks of stage 1 pass (injected; skippable), and the config yields a bundle. Every check
 * runs (unless it depends on one that failed) so the user sees all problems at once.
 */
import type { PlatformConfig } from "../../config/index.js";
import type { KubeClient } from "../client.js";

/** Kubernetes minor versions CozyStack v0.37 runs its management cluster on. */
export const supportedKubernetesMinors: readonly string[] = ["1.32", "1.33"];

/** Stage 1 against Proxmox, as bootstrap sees it. */
export type ProxmoxPreflight = (config: PlatformConfig) => Promise<{ readonly ok: boolean; readonly failures: readonly string[] }>;

export interface PreflightResult {
  readonly name: string;
  readonly status: "passed" | "failed" | "skipped";
  readonly detail: string;
}

export interface PreflightInput {
  readonly client: KubeClient;
  readonly config: PlatformConfig;
  /** Stage-1 checks; undefined = skipped (`--skip-proxmox-checks`). */
  readonly proxmoxPreflight?: ProxmoxPreflight;
  /** Checks of the config that need more than loading it (the bundle renders, …); throws on a problem, or says what passed. */
  readonly checkConfig: () => string | void;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `1.33` from `/version` (`minor` may carry a `+`). */
export function serverMinor(version: { major: string; minor: string }): string {
  return `${version.major}.${version.minor.replace(/\D+$/, "")}`;
}

export async function runPreflight(input: PreflightInput): Promise<PreflightResult[]> {
  const results: PreflightResult[] = [];
  try {
    const detail = input.checkConfig();
    results.push({ name: "config", status: "passed", detail: detail ?? "valid; the paas-proxmox bundle renders for it" });
  } catch (error) {
    results.push({ name: "config", status: "failed", detail: message(error) });
  }
  let version: { major: string; minor: string; gitVersion: string } | undefined;
  try {
    version = await input.client.version();
    results.push({ name: "cluster reachable", status: "passed", detail: `${input.client.server} answers` });
  } catch (error) {
    results.push({ name: "cluster reachable", status: "failed", detail: message(error) });
  }
  if (version) {
    const minor = serverMinor(version);
    results.push(
      supportedKubernetesMinors.includes(minor)
        ? { name: "cluster version", status: "passed", detail: `Kubernetes ${version.gitVersion}` }
        : {
            name: "cluster version",
            status: "failed",
            detail: `Kubernetes ${version.gitVersion} is not supported (CozyStack v0.37 runs on ${supportedKubernetesMinors.join(" or ")})`,
          },
    );
  } else {
    results.push({ name: "cluster version", status: "skipped", detail: "the cluster did not answer" });
  }
  if (!input.proxmoxPreflight) {
    results.push({ name: "proxmox", status: "skipped", detail: "--skip-proxmox-checks" });
  } else {
    try {
      const outcome = await input.proxmoxPreflight(input.config);
      results.push(
        outcome.ok
          ? { name: "proxmox", status: "passed", detail: "stage 1 (Proxmox API connection) passed" }
          : { name: "proxmox", status: "failed", detail: outcome.failures.join("; ") || "stage 1 failed" },
      );
    } catch (error) {
      results.push({ name: "proxmox", status: "failed", detail: message(error) });
    }
  }
  return results;
}
