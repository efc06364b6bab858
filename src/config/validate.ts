/**
 * Cross-field rules of a defaulted config: addresses inside their subnet, ranges that do not
 * collide, bounds in order, names unique, versions the profile supports. Single-field rules
 * are in the JSON Schema. Every rule skips values of the wrong type: the shape check has
 * already reported them, and one bad field must not hide the others.
 */
import { getProfile, majorMinor, type VersionsProfile } from "../versions/index.js";
import { issue, type PathSegment } from "./errors.js";
import { contains, overlaps, parseCidr, parseIpv4, single, subnetOf, type NumericRange } from "./ipv4.js";
import type { ConfigIssue, CozystackConfig, IpRange, NetworkConfig, PlatformConfig, ProxmoxConfig, TenantConfig } from "./types.js";

type Issues = ConfigIssue[];

function checkUrl(url: unknown, at: PathSegment[], issues: Issues, what: string): URL | undefined {
  if (typeof url !== "string") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    issues.push(issue(at, url, `must be an absolute URL like ${what}`));
    return undefined;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    issues.push(issue(at, url, `must start with https:// (like ${what})`));
  }
  if (parsed.username || parsed.password) issues.push(issue(at, url, "must not carry credentials"));
  return parsed;
}

function checkProxmox(p: ProxmoxConfig, profile: VersionsProfile | undefined, issues: Issues): void {
  const url = checkUrl(p.url, ["proxmox", "url"], issues, "https://pve.example.com:8006");
  if (url && url.pathname.replace(/\/+$/, "") !== "") {
    const hint = url.pathname.includes("/api2/json") ? "leave out /api2/json: the client adds it" : "must have no path";
    issues.push(issue(["proxmox", "url"], p.url, hint));
  }
  if (url && (url.search || url.hash)) issues.push(issue(["proxmox", "url"], p.url, "must have no query or fragment"));
  if (p.template.kind === "tags" && profile && !profile.templateMatchPolicies.includes(p.template.matchPolicy)) {
    issues.push(
      issue(["proxmox", "template", "matchPolicy"], p.template.matchPolicy,
        `capmox ${profile.capmox.version} (profile ${profile.name}) only supports ${profile.templateMatchPolicies.join(", ")}`),
    );
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
  numeric.forEach((a, i) =>
    numeric.slice(i + 1).forEach((b, j) => {
      if (a && b && overlaps(a, b)) issues.push(issue([...at, i + j + 1], ranges[i + j + 1], `overlaps ${at.join(".")}[${i}]`));
    }),
  );
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
  const url = checkUrl(c.apiServerEndpoint, ["cozystack", "apiServerEndpoint"], issues, "https://10.0.0.10:6443");
  if (url && url.protocol !== "https:") issues.push(issue(["cozystack", "apiServerEndpoint"], c.apiServerEndpoint, "must use https"));
  checkCidrs(c, n, issues);
  for (const name of c.bundleEnable) {
    if (c.bundleDisable.includes(name)) {
      issues.push(issue(["cozystack", "bundleDisable", c.bundleDisable.indexOf(name)], name, "is also in cozystack.bundleEnable"));
    }
  }
}

function checkVersion(t: TenantConfig, at: PathSegment[], profile: VersionsProfile | undefined, issues: Issues): void {
  const v = typeof t.version === "string" ? majorMinor(t.version) : undefined;
  if (!v || !profile) return;
  const { minMinor, maxMinor } = profile.kubernetes;
  if (v[0] !== 1 || v[1] < minMinor || v[1] > maxMinor) {
    issues.push(issue([...at, "version"], t.version, `profile ${profile.name} supports v1.${minMinor} to v1.${maxMinor}`));
  }
}

function checkNodeGroups(t: TenantConfig, at: PathSegment[], p: ProxmoxConfig, issues: Issues): void {
  const seen = new Set<string>();
  t.nodeGroups.forEach((g, i) => {
    const gat = [...at, "nodeGroups", i];
    if (seen.has(g.name)) issues.push(issue([...gat, "name"], g.name, "is used by another node group of this tenant"));
    seen.add(g.name);
    if (g.minReplicas > g.replicas) issues.push(issue([...gat, "minReplicas"], g.minReplicas, `must not exceed replicas (${g.replicas})`));
    if (g.maxReplicas < g.replicas) issues.push(issue([...gat, "maxReplicas"], g.maxReplicas, `must not be below replicas (${g.replicas})`));
    (g.allowedNodes ?? []).forEach((node, k) => {
      if (!p.allowedNodes.includes(node)) {
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

function sameRanges(a: readonly IpRange[], b: readonly IpRange[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Tenant address ranges: inside the node network's ranges and not shared between tenants. */
function checkTenantRanges(tenants: readonly TenantConfig[], n: NetworkConfig, issues: Issues): void {
  const pool = numericRanges(n.addressRanges);
  const owned: { range: NumericRange; tenant: number }[] = [];
  tenants.forEach((t, ti) => {
    const at = ["tenants", ti, "addressRanges"];
    const ranges = t.addressRanges ?? n.addressRanges;
    if (!sameRanges(ranges, n.addressRanges)) {
      // the network's own ranges were checked with the network
      checkRanges(ranges, vmSubnet(n), at, issues).forEach((r, i) => {
        if (r && !pool.some((p) => contains(p, r))) {
          issues.push(issue([...at, i], ranges[i], "must lie inside one of network.addressRanges"));
        }
      });
    }
    const clash = numericRanges(ranges)
      .map((range) => owned.find((o) => overlaps(o.range, range)))
      .find((o) => o !== undefined);
    if (clash) {
      issues.push(issue(at, ranges, `shares addresses with tenants[${clash.tenant}] (${tenants[clash.tenant]?.name}): give each tenant its own addressRanges`));
    }
    owned.push(...numericRanges(ranges).map((range) => ({ range, tenant: ti })));
  });
}

function checkTenants(c: PlatformConfig, profile: VersionsProfile | undefined, issues: Issues): void {
  const names = new Map<string, number>();
  const deployments = new Map<string, { tenant: number; path: string }>();
  c.tenants.forEach((t, i) => {
    const at = ["tenants", i];
    if (names.has(t.name)) issues.push(issue([...at, "name"], t.name, `is also the name of tenants[${names.get(t.name)}]`));
    names.set(t.name, i);
    checkVersion(t, at, profile, issues);
    checkNodeGroups(t, at, c.proxmox, issues);
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
  return issues;
}
