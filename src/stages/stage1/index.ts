/**
 * Stage 1 — Proxmox API connection: URL, TLS, reachability, token, PVE version, the
 * privileges each consumer needs, and API latency against the 2 s criterion.
 */
import { ProxmoxApiError, tlsGuidance } from "../../proxmox/index.js";
import { apiFailure, errorKind } from "../api-failure.js";
import { type StageContext, majorOf } from "../input.js";
import { type CheckOutcome, fail, pass } from "../model.js";
import type { CheckSpec } from "../runner.js";
import { criteria, formatDuration } from "../timeouts.js";
import { capmoxGeneration, lookupTemplate, resolveTemplateByTags } from "../stage2/index.js";
import { getProfile } from "../../versions/index.js";
import { checkUrl } from "./url.js";
import { judgeTls, probeTls, tlsMode } from "./tls.js";
import {
  type Consumer,
  type PathContext,
  describeGaps,
  findGaps,
  pveumCommands,
  requiredPaths,
} from "../../privileges/index.js";
import type { PermissionMap, PveVersion } from "../../proxmox/index.js";
import { checkTenantIsolation } from "./tenants.js";

/** The TLS probe is reused by the management commands to pin the certificate they saw. */
export { probeTls, sameFingerprint, type TlsProbe } from "./tls.js";


/** PVE majors the project supports (capmox, CSI and CCM are tested on 8.x and 9.x). */
export const SUPPORTED_MAJORS: readonly number[] = [8, 9];

/** Requests sampled by the latency check. */
export const LATENCY_SAMPLES = 20;

type VersionProbe = { ok: true; version: PveVersion } | { ok: false; error: unknown };

function probeVersion(ctx: StageContext, signal: AbortSignal): Promise<VersionProbe> {
  return ctx.memo("version-probe", async () => {
    try {
      const version = await ctx.api.get<PveVersion>("/version", undefined, { signal, timeoutMs: ctx.input.timeouts["api.request"] });
      return { ok: true, version } as const;
    } catch (error) {
      return { ok: false, error } as const;
    }
  });
}

async function checkTls(ctx: StageContext, signal: AbortSignal): Promise<CheckOutcome> {
  const url = ctx.api.url;
  if (new URL(url).protocol !== "https:") {
    return fail(`${url} is plain HTTP: the token would travel unencrypted`, "use the https:// URL of the Proxmox API (port 8006)");
  }
  try {
    const { ca } = tlsMode(ctx.input.tls);
    const probe = await probeTls(url, { ...(ca ? { ca } : {}), timeoutMs: ctx.input.timeouts["check.tls"], signal });
    return judgeTls(ctx.input.tls, url, probe);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail(
      message,
      `check the host and port in proxmox.url, that pveproxy runs on the node (systemctl status pveproxy) and that no firewall blocks the port from this machine`,
    );
  }
}

async function checkReachable(ctx: StageContext, signal: AbortSignal): Promise<CheckOutcome> {
  const probe = await probeVersion(ctx, signal);
  if (probe.ok) return pass(`${ctx.api.url}/api2/json answers (PVE ${probe.version.version})`);
  if (errorKind(probe.error) === "auth") return pass(`${ctx.api.url}/api2/json answers (it rejected the token: see api.auth)`);
  if (errorKind(probe.error) === "tls" && probe.error instanceof ProxmoxApiError) {
    return fail(`the client refused the server's certificate: ${probe.error.message}`, tlsGuidance(ctx.api.url, undefined));
  }
  if (errorKind(probe.error) === "protocol" || errorKind(probe.error) === "not-implemented") {
    return fail(
      `${ctx.api.url} answered, but not like a Proxmox VE API: ${(probe.error as Error).message}`,
      "point proxmox.url at a Proxmox VE node (https://<node>:8006), not at another service or a proxy path",
    );
  }
  return apiFailure(`GET ${ctx.api.url}/api2/json/version`, probe.error, ctx.api.url);
}

async function checkAuth(ctx: StageContext, signal: AbortSignal): Promise<CheckOutcome> {
  const probe = await probeVersion(ctx, signal);
  const tokenId = ctx.api.tokenId;
  const user = tokenId.split("!")[0] ?? tokenId;
  const name = tokenId.split("!")[1] ?? "";
  if (probe.ok) return pass(`token ${tokenId} authenticated`);
  if (errorKind(probe.error) === "auth") {
    return fail(
      `Proxmox rejected token ${tokenId} (401): the token does not exist, the secret is wrong, the token expired, or user ${user} is disabled`,
      `on a node, list the user's tokens: pveum user token list ${user}; if ${name} is missing or expired, create it: pveum user token add ${user} ${name} -privsep 1, ` +
        "and put the secret it prints (shown once) into PROXMOX_SECRET or the file proxmox.secret.file names",
    );
  }
  return apiFailure(`authenticating token ${tokenId}`, probe.error, ctx.api.url);
}

async function checkPveVersion(ctx: StageContext): Promise<CheckOutcome> {
  const version = await ctx.version();
  const major = majorOf(version);
  const figures = { version: version.version, release: version.release };
  if (!SUPPORTED_MAJORS.includes(major)) {
    const newer = major > Math.max(...SUPPORTED_MAJORS);
    return fail(
      `Proxmox VE ${version.version} is ${newer ? "newer than" : "older than"} the supported releases (${SUPPORTED_MAJORS.map((m) => `${m}.x`).join(", ")})`,
      newer
        ? "run against PVE 9.x, or check that capmox, the CSI plugin and the CCM support this release before relying on it"
        : "upgrade the cluster to PVE 8.4 or 9.x (pve7to8 / pve8to9 check the upgrade); PVE 7 lacks SDN.Use on bridges and returns null for disk resizes",
      figures,
    );
  }
  return pass(`Proxmox VE ${version.version} (release ${version.release})`, figures);
}

/** VMIDs of the template(s) for privilege paths: the resolved one, else every tag match. */
async function templateIds(ctx: StageContext): Promise<number[]> {
  const t = ctx.config.proxmox.template;
  if (t.kind === "id") return [t.templateId];
  const found = await lookupTemplate(ctx);
  if (found.ok) return [found.vmid];
  const resources = await ctx.vmResources().catch(() => []);
  const generation = capmoxGeneration(getProfile(ctx.config.profile).capmox.version);
  const resolved = resolveTemplateByTags(resources, t.tags, t.matchPolicy, generation);
  return resolved.ok ? [resolved.vmid] : resolved.matches.map((m) => m.vmid ?? 0).filter((id) => id > 0);
}

function pathContext(ctx: StageContext, ids: readonly number[]): PathContext {
  const p = ctx.config.proxmox;
  return {
    allowedNodes: p.allowedNodes,
    ...(p.pool ? { pool: p.pool } : {}),
    templateIds: ids,
    diskStorage: p.diskStorage,
    isoStorage: p.isoStorage,
    bridge: p.bridge,
    ...(p.vlan !== undefined ? { vlan: p.vlan } : {}),
  };
}

/** The token's permissions on every path any consumer needs, one `?path=` query each. */
function tokenPermissions(ctx: StageContext, paths: readonly string[]): Promise<PermissionMap> {
  return ctx.memo(`permissions:${paths.join(",")}`, async () => {
    const merged: Record<string, PermissionMap[string]> = { ...(await ctx.api.permissions()) };
    for (const path of paths) Object.assign(merged, await ctx.api.permissions({ path }));
    return merged;
  });
}

/** Whether the token has privilege separation, when the token may read its own entry. */
function tokenPrivsep(ctx: StageContext): Promise<boolean | undefined> {
  return ctx.memo("privsep", async () => {
    const [user, name] = ctx.api.tokenId.split("!");
    try {
      const info = await ctx.api.get<{ privsep?: number | boolean }>(`/access/users/${encodeURIComponent(user ?? "")}/token/${encodeURIComponent(name ?? "")}`);
      return info.privsep === undefined ? undefined : info.privsep === 1 || info.privsep === true;
    } catch {
      return undefined;
    }
  });
}

const consumerName: Record<Consumer, string> = { capmox: "capmox", csi: "the Proxmox CSI plugin", ccm: "the Proxmox CCM" };

async function checkPrivileges(ctx: StageContext, consumer: Consumer): Promise<CheckOutcome> {
  const major = majorOf(await ctx.version());
  const paths = pathContext(ctx, await templateIds(ctx));
  let permissions: PermissionMap;
  try {
    permissions = await tokenPermissions(ctx, requiredPaths(paths));
  } catch (error) {
    return apiFailure("reading the token's permissions (GET /access/permissions)", error, ctx.api.url);
  }
  const gaps = findGaps(consumer, permissions, paths, Number.isNaN(major) ? 9 : major);
  const required = gaps.filter((g) => !g.optional);
  const optional = gaps.filter((g) => g.optional);
  const release = Number.isNaN(major) || major >= 9 ? "PVE 9 privilege names" : "PVE 8 privilege names (VM.Monitor for the guest agent)";
  if (required.length > 0) {
    const commands = pveumCommands(required, ctx.api.tokenId, await tokenPrivsep(ctx));
    return fail(
      `token ${ctx.api.tokenId} lacks what ${consumerName[consumer]} needs (${release}): ${describeGaps(required)}`,
      `run on a Proxmox node as root:\n${commands.join("\n")}`,
      { missing: required.reduce((n, g) => n + g.missing.length + g.notPropagated.length, 0) },
    );
  }
  const notes = optional.map((g) => `optional, ${g.optional}: ${g.missing.join(", ")} on ${g.path}`).join("; ");
  const checked = [...new Set(findGaps(consumer, {}, paths, major).map((g) => g.path))].join(", ");
  return pass(`token holds every privilege ${consumerName[consumer]} needs on ${checked} (${release})${notes ? `; ${notes}` : ""}`);
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

async function checkLatency(ctx: StageContext, signal: AbortSignal): Promise<CheckOutcome> {
  const calls: [string, Record<string, string> | undefined][] = [
    ["/version", undefined],
    ["/cluster/resources", { type: "vm" }],
    ["/nodes", undefined],
  ];
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const [path, params] = calls[i % calls.length] as [string, Record<string, string> | undefined];
    const start = performance.now();
    try {
      await ctx.api.get(path, params, { signal, retry: false, timeoutMs: ctx.input.timeouts["api.request"] });
    } catch (error) {
      return apiFailure(`latency sample ${i + 1} (GET ${path})`, error, ctx.api.url);
    }
    samples.push(performance.now() - start);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = Math.round(percentile(sorted, 50));
  const p95 = Math.round(percentile(sorted, 95));
  const max = Math.round(sorted[sorted.length - 1] ?? 0);
  const figures = { p50Ms: p50, p95Ms: p95, maxMs: max, samples: samples.length, criterionMs: criteria.apiLatencyMs };
  const summary = `p50 ${formatDuration(p50)}, p95 ${formatDuration(p95)}, max ${formatDuration(max)} over ${samples.length} requests`;
  if (p95 > criteria.apiLatencyMs) {
    return fail(
      `API responses are too slow: ${summary}; the criterion is p95 under ${formatDuration(criteria.apiLatencyMs)}`,
      "check the load of the node you connect to (pveproxy, pvedaemon, pvestatd), the network between here and it, and slow storages (an unreachable NFS/CIFS/Ceph storage makes /cluster/resources slow)",
      figures,
    );
  }
  return pass(summary, figures);
}

/** The checks of stage 1, in order. */
export function stage1Checks(): CheckSpec<StageContext>[] {
  return [
    { id: "api.url", title: "URL well formed for capmox (no /api2/json)", run: async (ctx) => checkUrl(ctx.input.configuredUrl) },
    { id: "api.tls", title: "TLS verified, pinned, or explicitly insecure", timeout: "check.tls", run: checkTls },
    { id: "api.reachable", title: "/api2/json/version answers", needs: ["api.tls"], run: checkReachable },
    { id: "api.auth", title: "API token authenticates", needs: ["api.reachable"], run: checkAuth },
    { id: "api.pve-version", title: "Proxmox VE version supported", needs: ["api.auth"], run: (ctx) => checkPveVersion(ctx) },
    { id: "api.privileges.capmox", title: "token privileges for capmox", needs: ["api.auth"], run: (ctx) => checkPrivileges(ctx, "capmox") },
    { id: "api.privileges.csi", title: "token privileges for the CSI plugin", needs: ["api.auth"], run: (ctx) => checkPrivileges(ctx, "csi") },
    { id: "api.privileges.ccm", title: "token privileges for the CCM", needs: ["api.auth"], run: (ctx) => checkPrivileges(ctx, "ccm") },
    { id: "api.tenants", title: "each tenant's own token: least privilege in its pool", needs: ["api.auth"], run: async (ctx) => checkTenantIsolation(ctx, await templateIds(ctx)) },
    { id: "api.latency", title: `API latency p95 under ${formatDuration(criteria.apiLatencyMs)}`, needs: ["api.auth"], timeout: "check.latency", run: checkLatency },
  ];
}
