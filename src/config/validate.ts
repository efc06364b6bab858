/**
 * Cross-field rules of a defaulted config: addresses inside their subnet, ranges that do not
 * collide, bounds in order, names unique, versions the profile supports. Single-field rules
 * are in the JSON Schema. Every rule skips values of the wrong type: the shape check has
 * already reported them, and one bad field must not hide the others.
 */
import { getProfile, majorMinor, type VersionsProfile } from "../versions/index.js";
import { formatPath, issue, type PathSegment } from "./errors.js";
import { isolationIssues } from "./isolation.js";
import { nodeStartupTimeoutProblem } from "./duration.js";
import { lengths } from "./limits.js";
import { cozystackV1Issues } from "./cozystack-v1.js";
import { contains, overlaps, parseCidr, parseIpv4, single, subnetOf, type NumericRange } from "./ipv4.js";
import type { ConfigIssue, CozystackConfig, IpRange, NetworkConfig, PlatformConfig, ProxmoxConfig, TenantConfig } from "./types.js";

type Issues = ConfigIssue[];

/** The URL as it may be shown: user name and password replaced, whatever way they were written. */
function shownUrl(url: string, parsed: URL): string {
  if (!parsed.username && !parsed.password) return url;
  return `${parsed.protocol}//[redacted]@${parsed.host}${parsed.pathname}${parsed.search}${parsed.hash}`;
}

/** A host name's DNS limits (an IP address passes: the URL parser has checked it). */
function hostProblem(host: string): string | undefined {
  if (/^[\d.]+$/.test(host) || host.startsWith("[")) return undefined;
  if (host.length > lengths.dnsName) return `has a host name of ${host.length} characters: a DNS name has at most ${lengths.dnsName}`;
  const long = host.split(".").find((label) => label.length > lengths.dnsLabel);
  return long === undefined ? undefined : `has a host name label of ${long.length} characters: a DNS label has at most ${lengths.dnsLabel}`;
}

/** The parsed URL and the form of it that may be shown, after the checks every URL field shares. */
function checkUrl(url: unknown, at: PathSegment[], issues: Issues, what: string): { url: URL; shown: string } | undefined {
  if (typeof url !== "string") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    issues.push(issue(at, url, `must be an absolute URL like ${what}`));
    return undefined;
  }
  const shown = shownUrl(url, parsed);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    issues.push(issue(at, shown, `must start with https:// (like ${what})`));
  }
  if (parsed.username || parsed.password) issues.push(issue(at, shown, "must not carry credentials (user name or password): the token or certificates authenticate"));
  const host = hostProblem(parsed.hostname);
  if (host) issues.push(issue(at, shown, host));
  return { url: parsed, shown };
}

function checkProxmox(p: ProxmoxConfig, profile: VersionsProfile | undefined, issues: Issues): void {
  const checked = checkUrl(p.url, ["proxmox", "url"], issues, "https://pve.example.com:8006");
  const url = checked?.url;
  if (checked && url && url.pathname.replace(/\/+$/, "") !== "") {
    const hint = url.pathname.includes("/api2/json") ? "leave out /api2/json: the client adds it" : "must have no path";
    issues.push(issue(["proxmox", "url"], checked.shown, hint));
  }
  if (checked && url && (url.search || url.hash)) issues.push(issue(["proxmox", "url"], checked.shown, "must have no query or fragment"));
  for (const [field, ref] of [["template", p.template], ["talosTemplate", p.talosTemplate]] as const) {
    if (ref?.kind === "tags" && profile && !profile.templateMatchPolicies.includes(ref.matchPolicy)) {
      issues.push(
        issue(["proxmox", field, "matchPolicy"], ref.matchPolicy,
          `capmox ${profile.capmox.version} (profile ${profile.name}) only supports ${profile.templateMatchPolicies.join(", ")}`),
      );
    }
  }
  if (p.fullClone === false && p.diskFormat !== undefined) {
    issues.push(issue(["proxmox", "diskFormat"], p.diskFormat, "needs full clones (fullClone: true): capmox rejects a format for linked clones"));
  }
}

/** The VM subnet as a range, when gateway and prefix are usable. */
function vmSubnet(n: NetworkConfig): NumericRange | undefined {
  const gateway = parseIpv4(n.gateway);
  const usable = Number.isInteger(n.prefix) && n.prefix >= 1 && n.prefix <= 32;
  return gateway !== undefined && usable ? subnetOf(gateway, n.prefix) : undefined;
}

/**
 * For each range that overlaps another, its index and the other's (the later index first),
 * each range at most once: a sort and one sweep, not every pair.
 */
function overlappingPairs(ranges: readonly (NumericRange | undefined)[]): [number, number][] {
  const order = ranges.flatMap((r, i) => (r ? [{ ...r, i }] : [])).sort((a, b) => a.first - b.first || a.i - b.i);
  const found = new Map<number, number>();
  let widest: (NumericRange & { i: number }) | undefined;
  for (const r of order) {
    if (widest && widest.last >= r.first) {
      const [later, earlier] = r.i > widest.i ? [r.i, widest.i] : [widest.i, r.i];
      if (!found.has(later)) found.set(later, earlier);
    }
    if (!widest || r.last > widest.last) widest = r;
  }
  return [...found].sort((a, b) => a[0] - b[0]);
}

/** Each range as numbers (undefined where malformed), with problems of the range itself reported. */
function checkRanges(ranges: readonly IpRange[], subnet: NumericRange | undefined, at: PathSegment[], issues: Issues): (NumericRange | undefined)[] {
  const numeric = ranges.map((r, i) => {
    const first = parseIpv4(r?.start);
    const last = parseIpv4(r?.end);
    if (first === undefined || last === undefined) return undefined;
    if (first > last) {
      issues.push(issue([...at, i], r, "start must not be after end"));
      return undefined;
    }
    const range = { first, last };
    if (subnet && !contains(subnet, range)) {
      issues.push(issue([...at, i], r, "must lie inside the subnet of network.gateway/network.prefix"));
    } else if (subnet && subnet.last - subnet.first > 1 && (first === subnet.first || last === subnet.last)) {
      issues.push(issue([...at, i], r, "must not include the subnet's network or broadcast address"));
    }
    return range;
  });
  for (const [later, earlier] of overlappingPairs(numeric)) {
    issues.push(issue([...at, later], ranges[later], `overlaps ${formatPath(at)}[${earlier}]`));
  }
  return numeric;
}

function checkNetwork(n: NetworkConfig, issues: Issues): void {
  const subnet = vmSubnet(n);
  const gateway = parseIpv4(n.gateway);
  const ranges = checkRanges(n.addressRanges, subnet, ["network", "addressRanges"], issues);
  if (gateway !== undefined && ranges.some((r) => r && contains(r, single(gateway)))) {
    issues.push(issue(["network", "gateway"], n.gateway, "must not be inside network.addressRanges: VMs would be given it"));
  }
}

function checkCidrs(c: CozystackConfig, n: NetworkConfig, issues: Issues): void {
  const named: [string, string][] = [["podCidr", c.podCidr], ["serviceCidr", c.serviceCidr], ["joinCidr", c.joinCidr]];
  const parsed = named.map(([key, value]) => {
    const cidr = parseCidr(value);
    if (cidr && !cidr.exact) issues.push(issue(["cozystack", key], value, "has host bits set: use the network address"));
    return cidr;
  });
  const subnet = vmSubnet(n);
  parsed.forEach((a, i) => {
    const key = named[i]![0];
    if (a && subnet && overlaps(a, subnet)) issues.push(issue(["cozystack", key], named[i]![1], "overlaps the node network"));
    parsed.slice(i + 1).forEach((b, j) => {
      if (a && b && overlaps(a, b)) issues.push(issue(["cozystack", named[i + j + 1]![0]], named[i + j + 1]![1], `overlaps cozystack.${key}`));
    });
  });
  const gateway = parseIpv4(c.podGateway);
  if (gateway !== undefined && parsed[0] && !contains(parsed[0], single(gateway))) {
    issues.push(issue(["cozystack", "podGateway"], c.podGateway, "must be inside cozystack.podCidr"));
  }
}

function checkCozystack(c: CozystackConfig, n: NetworkConfig, issues: Issues): void {
  const checked = checkUrl(c.apiServerEndpoint, ["cozystack", "apiServerEndpoint"], issues, "https://10.0.0.10:6443");
  if (checked && checked.url.protocol !== "https:") issues.push(issue(["cozystack", "apiServerEndpoint"], checked.shown, "must use https"));
  checkCidrs(c, n, issues);
  const enabled = new Set(c.bundleEnable);
  c.bundleDisable.forEach((name, i) => {
    if (enabled.has(name)) issues.push(issue(["cozystack", "bundleDisable", i], name, "is also in cozystack.bundleEnable"));
  });
}

function checkVersion(t: TenantConfig, at: PathSegment[], profile: VersionsProfile | undefined, issues: Issues): void {
  const v = typeof t.version === "string" ? majorMinor(t.version) : undefined;
  if (!v || !profile) return;
  const { minMinor, maxMinor } = profile.kubernetes;
  if (v[0] !== 1 || v[1] < minMinor || v[1] > maxMinor) {
    issues.push(issue([...at, "version"], t.version, `profile ${profile.name} supports v1.${minMinor} to v1.${maxMinor}`));
  }
}

function checkNodeGroups(t: TenantConfig, at: PathSegment[], allowed: ReadonlySet<string>, issues: Issues): void {
  const seen = new Set<string>();
  t.nodeGroups.forEach((g, i) => {
    const gat = [...at, "nodeGroups", i];
    if (seen.has(g.name)) issues.push(issue([...gat, "name"], g.name, "is used by another node group of this tenant"));
    seen.add(g.name);
    if (g.minReplicas > g.replicas) issues.push(issue([...gat, "minReplicas"], g.minReplicas, `must not exceed replicas (${g.replicas})`));
    if (g.maxReplicas < g.replicas) issues.push(issue([...gat, "maxReplicas"], g.maxReplicas, `must not be below replicas (${g.replicas})`));
    const startup = typeof g.nodeStartupTimeout !== "string" ? undefined : nodeStartupTimeoutProblem(g.nodeStartupTimeout);
    if (startup !== undefined) issues.push(issue([...gat, "nodeStartupTimeout"], g.nodeStartupTimeout, startup));
    (g.allowedNodes ?? []).forEach((node, k) => {
      if (!allowed.has(node)) {
        issues.push(issue([...gat, "allowedNodes", k], node, "is not in proxmox.allowedNodes"));
      }
    });
  });
}

function checkTenantNetworks(t: TenantConfig, at: PathSegment[], n: NetworkConfig, issues: Issues): void {
  const subnet = vmSubnet(n);
  for (const key of ["podCidr", "serviceCidr"] as const) {
    const cidr = parseCidr(t[key]);
    if (cidr && !cidr.exact) issues.push(issue([...at, key], t[key], "has host bits set: use the network address"));
    if (cidr && subnet && overlaps(cidr, subnet)) issues.push(issue([...at, key], t[key], "overlaps the node network"));
  }
  const pods = parseCidr(t.podCidr);
  const services = parseCidr(t.serviceCidr);
  if (pods && services && overlaps(pods, services)) issues.push(issue([...at, "serviceCidr"], t.serviceCidr, "overlaps podCidr"));
  const address = parseIpv4(t.controlPlane.address);
  if (address !== undefined && numericRanges(n.addressRanges).some((r) => contains(r, single(address)))) {
    issues.push(issue([...at, "controlPlane", "address"], t.controlPlane.address, "is inside network.addressRanges: a VM could be given it"));
  }
}

function numericRanges(ranges: readonly IpRange[]): NumericRange[] {
  return ranges.flatMap((r) => {
    const first = parseIpv4(r?.start);
    const last = parseIpv4(r?.end);
    return first !== undefined && last !== undefined && first <= last ? [{ first, last }] : [];
  });
}

/** Whether `range` lies inside one of `pool` (sorted by start, with the running widest end), by binary search. */
function containedIn(pool: { readonly starts: number[]; readonly widestEnd: number[] }, range: NumericRange): boolean {
  let lo = 0;
  let hi = pool.starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (pool.starts[mid]! <= range.first) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found >= 0 && pool.widestEnd[found]! >= range.last;
}

function poolOf(ranges: readonly NumericRange[]): { starts: number[]; widestEnd: number[] } {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  let widest = -1;
  return { starts: sorted.map((r) => r.first), widestEnd: sorted.map((r) => (widest = Math.max(widest, r.last))) };
}

/**
 * For each tenant whose addresses overlap another tenant's, the other tenant (the later
 * tenant is the one reported): one sort and a sweep that keeps the widest range of the two
 * tenants reaching furthest, so any overlap with another tenant is seen.
 */
function tenantClashes(owned: readonly { range: NumericRange; tenant: number }[]): Map<number, number> {
  const order = [...owned].sort((a, b) => a.range.first - b.range.first);
  const clashes = new Map<number, number>();
  let best: { range: NumericRange; tenant: number } | undefined;
  let other: { range: NumericRange; tenant: number } | undefined; // the furthest-reaching of the other tenants
  for (const r of order) {
    const hit = best && best.tenant !== r.tenant ? best : other;
    if (hit && hit.tenant !== r.tenant && hit.range.last >= r.range.first) {
      const [later, earlier] = r.tenant > hit.tenant ? [r.tenant, hit.tenant] : [hit.tenant, r.tenant];
      if (!clashes.has(later)) clashes.set(later, earlier);
    }
    if (!best || r.range.last > best.range.last) {
      if (best && best.tenant !== r.tenant) other = best;
      best = r;
    } else if (r.tenant !== best.tenant && (!other || r.range.last > other.range.last)) {
      other = r;
    }
  }
  return clashes;
}

/** Tenant address ranges: inside the node network's ranges and not shared between tenants. */
function checkTenantRanges(tenants: readonly TenantConfig[], n: NetworkConfig, issues: Issues): void {
  const pool = poolOf(numericRanges(n.addressRanges));
  const networkKey = JSON.stringify(n.addressRanges);
  const subnet = vmSubnet(n);
  const owned: { range: NumericRange; tenant: number }[] = [];
  tenants.forEach((t, ti) => {
    const at = ["tenants", ti, "addressRanges"];
    const ranges = t.addressRanges ?? n.addressRanges;
    // the network's own ranges were checked with the network
    if (ranges !== n.addressRanges && JSON.stringify(ranges) !== networkKey) {
      checkRanges(ranges, subnet, at, issues).forEach((r, i) => {
        if (r && !containedIn(pool, r)) {
          issues.push(issue([...at, i], ranges[i], "must lie inside one of network.addressRanges"));
        }
      });
    }
    owned.push(...numericRanges(ranges).map((range) => ({ range, tenant: ti })));
  });
  for (const [later, earlier] of [...tenantClashes(owned)].sort((a, b) => a[0] - b[0])) {
    const ranges = tenants[later]!.addressRanges ?? n.addressRanges;
    issues.push(
      issue(["tenants", later, "addressRanges"], ranges, `shares addresses with tenants[${earlier}] (${tenants[earlier]?.name}): give each tenant its own addressRanges`),
    );
  }
}

function checkTenants(c: PlatformConfig, profile: VersionsProfile | undefined, issues: Issues): void {
  const names = new Map<string, number>();
  const allowedNodes = new Set(c.proxmox.allowedNodes);
  const deployments = new Map<string, { tenant: number; path: string }>();
  c.tenants.forEach((t, i) => {
    const at = ["tenants", i];
    if (names.has(t.name)) issues.push(issue([...at, "name"], t.name, `is also the name of tenants[${names.get(t.name)}]`));
    names.set(t.name, i);
    checkVersion(t, at, profile, issues);
    checkNodeGroups(t, at, allowedNodes, issues);
    checkTenantNetworks(t, at, c.network, issues);
    t.nodeGroups.forEach((g, k) => {
      // MachineDeployments are named <tenant>-<group>: two tenants in one namespace could collide.
      const key = `${t.namespace}/${t.name}-${g.name}`;
      const other = deployments.get(key);
      if (other && other.tenant !== i) {
        issues.push(issue([...at, "nodeGroups", k, "name"], g.name, `gives the same MachineDeployment name as ${other.path}`));
      }
      deployments.set(key, { tenant: i, path: `tenants[${i}].nodeGroups[${k}]` });
    });
  });
  checkTenantRanges(c.tenants, c.network, issues);
}

function profileOf(name: string): VersionsProfile | undefined {
  try {
    return getProfile(name);
  } catch {
    return undefined; // an unknown profile is a shape error, reported already
  }
}

/** Runs one group of checks; a crash on a malformed value is a shape problem already reported. */
function guarded(issues: Issues, check: (into: Issues) => void): void {
  const found: Issues = [];
  try {
    check(found);
  } catch {
    // keep what the group found before it tripped over a wrong-shaped value
  }
  issues.push(...found);
}

/** Every cross-field problem of a defaulted config. */
export function validateConfig(c: PlatformConfig): ConfigIssue[] {
  const issues: Issues = [];
  const profile = profileOf(c.profile);
  guarded(issues, (into) => checkProxmox(c.proxmox, profile, into));
  guarded(issues, (into) => checkNetwork(c.network, into));
  guarded(issues, (into) => checkCozystack(c.cozystack, c.network, into));
  guarded(issues, (into) => checkTenants(c, profile, into));
  guarded(issues, (into) => into.push(...cozystackV1Issues(c.profile, c.cozystackV1)));
  guarded(issues, (into) => into.push(...isolationIssues(c)));
  return issues;
}
