/**
 * Applying the tenant plan through the Proxmox API with an administrator's token: each step
 * looks first and changes only what is missing, so a second run changes nothing. A new
 * token's secret (PVE returns it once) is written straight to the file the caller names and
 * never returned, logged or printed.
 */
import { access } from "node:fs/promises";
import { writeFileAtomic } from "../files/index.js";
import { ProxmoxApiError, type AclEntry, type ProxmoxApi } from "../proxmox/index.js";
import { pveumCommand, type PlanStep } from "./plan.js";

/** What happened to one step. */
export interface StepResult {
  readonly step: PlanStep;
  readonly outcome: "created" | "exists" | "failed";
  /** Detail for the report: where a secret went, or why the step failed (never a secret). */
  readonly detail?: string;
}

export interface ApplyOptions {
  readonly api: ProxmoxApi;
  /** Where a tenant's new token secret goes. */
  readonly secretFile: (tenant: string) => string;
  /** Told about each step as it ends. */
  readonly onStep?: (result: StepResult) => void;
}

const enc = encodeURIComponent;

/** Whether an API error is PVE's "no such …" for a missing object. */
function missing(error: unknown): boolean {
  return error instanceof ProxmoxApiError && /no such|does not exist/i.test(error.message);
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (missing(error)) return false;
    throw error;
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function applyPool(api: ProxmoxApi, step: Extract<PlanStep, { kind: "pool" }>): Promise<StepResult> {
  const pools = await api.pools();
  if (pools.some((p) => p.poolid === step.pool)) return { step, outcome: "exists" };
  await api.post("/pools", { poolid: step.pool, comment: `cozy-proxmox tenant ${step.tenant}` });
  return { step, outcome: "created" };
}

async function applyUser(api: ProxmoxApi, step: Extract<PlanStep, { kind: "user" }>): Promise<StepResult> {
  if (await exists(() => api.get(`/access/users/${enc(step.userid)}`))) return { step, outcome: "exists" };
  await api.post("/access/users", { userid: step.userid, comment: `cozy-proxmox tenant ${step.tenant}` });
  return { step, outcome: "created" };
}

async function applyToken(api: ProxmoxApi, step: Extract<PlanStep, { kind: "token" }>, file: string): Promise<StepResult> {
  const path = `/access/users/${enc(step.userid)}/token/${enc(step.tokenName)}`;
  if (await exists(() => api.get(path))) {
    if (await fileExists(file)) return { step, outcome: "exists", detail: `its secret stays in ${file}` };
    return {
      step,
      outcome: "failed",
      detail: `the token exists but ${file} does not hold its secret, and PVE shows a secret only when it makes the token: remove the token (pveum user token remove ${step.userid} ${step.tokenName}) and run again`,
    };
  }
  const made = await api.post<{ value?: string }>(path, { privsep: 1, comment: `cozy-proxmox tenant ${step.tenant}` });
  if (typeof made?.value !== "string") return { step, outcome: "failed", detail: "PVE made the token but returned no secret" };
  await writeFileAtomic(file, `${made.value}\n`, { mode: 0o600 });
  return { step, outcome: "created", detail: `secret written to ${file}` };
}

function sameAcl(entry: AclEntry, step: Extract<PlanStep, { kind: "acl" }>): boolean {
  const propagate = entry.propagate === 1 || entry.propagate === true;
  return entry.path === step.path && entry.roleid === step.role && entry.ugid === step.ugid && propagate === step.propagate;
}

async function applyAcl(api: ProxmoxApi, step: Extract<PlanStep, { kind: "acl" }>, acl: readonly AclEntry[]): Promise<StepResult> {
  if (acl.some((e) => sameAcl(e, step))) return { step, outcome: "exists" };
  await api.put("/access/acl", {
    path: step.path,
    roles: step.role,
    [step.subject === "user" ? "users" : "tokens"]: step.ugid,
    propagate: step.propagate ? 1 : 0,
  });
  return { step, outcome: "created" };
}

async function applyStep(options: ApplyOptions, step: PlanStep, acl: () => Promise<readonly AclEntry[]>): Promise<StepResult> {
  const { api } = options;
  try {
    switch (step.kind) {
      case "pool":
        return await applyPool(api, step);
      case "user":
        return await applyUser(api, step);
      case "token":
        return await applyToken(api, step, options.secretFile(step.tenant));
      case "acl":
        return await applyAcl(api, step, await acl());
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { step, outcome: "failed", detail: `${message} (by hand: ${pveumCommand(step)})` };
  }
}

/**
 * Applies the steps in order; a tenant whose step fails gets no further steps (its later steps
 * depend on the earlier ones), the other tenants go on.
 */
export async function applyPlan(steps: readonly PlanStep[], options: ApplyOptions): Promise<StepResult[]> {
  let aclCache: Promise<readonly AclEntry[]> | undefined;
  const acl = (): Promise<readonly AclEntry[]> => (aclCache ??= options.api.get<AclEntry[]>("/access/acl"));
  const failedTenants = new Set<string>();
  const results: StepResult[] = [];
  for (const step of steps) {
    if (failedTenants.has(step.tenant)) continue;
    const result = await applyStep(options, step, acl);
    if (result.outcome === "failed") failedTenants.add(step.tenant);
    results.push(result);
    options.onStep?.(result);
  }
  return results;
}
