/**
 * `synth --check`'s placement preflight, when Proxmox can be reached: stage 2's
 * `tenants.placement` for the config's tenants, with the platform token from the same
 * sources the stages use (PROXMOX_* or the config). Without credentials, or when Proxmox does
 * not answer, it says so and synth goes on: the preflight needs a cluster to judge against.
 */
import { readFileSync } from "node:fs";
import type { PlatformConfig } from "../config/index.js";
import { createProxmoxClient, type EnvMap } from "../proxmox/index.js";
import { checkPlacementOnly, defaultTimeouts, resolveConnection } from "../stages/index.js";

export type PlacementPreflight =
  | { readonly ran: false; readonly why: string }
  | { readonly ran: true; readonly ok: boolean; readonly text: string };

export async function placementPreflight(config: PlatformConfig, env: EnvMap): Promise<PlacementPreflight> {
  let connection;
  try {
    connection = resolveConnection(config, env, (path) => readFileSync(path, "utf8"));
  } catch (error) {
    return { ran: false, why: (error as Error).message };
  }
  const api = createProxmoxClient({ url: connection.url, tokenId: connection.tokenId, secret: connection.secret, tls: connection.tls, timeoutMs: 10_000 });
  try {
    await api.version();
  } catch (error) {
    api.close();
    return { ran: false, why: `Proxmox at ${connection.url} does not answer: ${(error as Error).message}` };
  }
  try {
    const outcome = await checkPlacementOnly({ config: connection.config, api, configuredUrl: connection.url, tls: connection.tls, timeouts: defaultTimeouts, secrets: [connection.secret] });
    if (outcome.verdict === "failed") return { ran: true, ok: false, text: `${outcome.reason}\n  fix: ${outcome.fix}` };
    if (outcome.verdict === "warning") return { ran: true, ok: true, text: `${outcome.detail ?? ""}\n  warning: ${outcome.reason}\n  fix: ${outcome.fix}` };
    return { ran: true, ok: true, text: outcome.verdict === "passed" ? (outcome.detail ?? "") : outcome.verdict };
  } finally {
    api.close();
  }
}
