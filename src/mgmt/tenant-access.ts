/**
 * The environment's part of `npm run tenant-access -- --apply`: the isolated tenants of a
 * config get their pools, users, privilege-separated tokens and ACLs in the lab through the
 * same plan and API calls, as the lab's administrator; each new token's secret lands in a
 * file under the environment's folder (PVE shows it once) and is read back for the tenant's
 * credentials Secret. A second call changes nothing and reads the same secrets.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { tenantToken, type PlatformConfig } from "../config/index.js";
import { createProxmoxClient } from "../proxmox/index.js";
import { applyPlan, templateIds, tenantPlans } from "../tenancy/index.js";
import type { LabCredentials } from "./lab-credentials.js";

/** The tenants' own token secrets by tenant name (empty when every tenant shares the lab's token). */
export async function isolateTenants(config: PlatformConfig, lab: LabCredentials, secretsDir: string): Promise<Record<string, string>> {
  const isolated = config.tenants.filter((t) => !tenantToken(config, t).shared);
  if (isolated.length === 0) return {};
  const api = createProxmoxClient({ url: lab.url, tokenId: lab.tokenId, secret: lab.secret, tls: { fingerprint: lab.fingerprint }, timeoutMs: 10_000 });
  const file = (tenant: string): string => join(secretsDir, `${tenant}.secret`);
  try {
    const { ids } = await templateIds(config, api);
    const results = await applyPlan(tenantPlans(config, ids).flatMap((p) => p.steps), { api, secretFile: file });
    const failed = results.filter((r) => r.outcome === "failed");
    if (failed.length > 0) throw new Error(`isolating the tenants in the lab failed: ${failed.map((r) => `${r.step.tenant}: ${r.detail ?? r.step.kind}`).join("; ")}`);
  } finally {
    api.close();
  }
  const secrets: Record<string, string> = {};
  for (const tenant of isolated) secrets[tenant.name] = (await readFile(file(tenant.name), "utf8")).trim();
  return secrets;
}
