/**
 * IPv4 ranges of the VM address pool and the addresses existing guests already use.
 *
 * Where an address comes from: a QEMU `ipconfigN` (`ip=10.0.0.5/24,gw=…`), an LXC `netN`
 * (`…,ip=10.0.0.5/24`), the guest agent's interfaces, or capmox's `ip_net0_<addr>` tag, which
 * marks an address capmox's IPAM handed out (a planned use, not a conflict). The arithmetic
 * is the config's (src/config/ipv4.ts).
 */
import { contains, parseIpv4, single, type NumericRange } from "../../config/index.js";

/** A range of the pool, with how the config wrote it. */
export interface IntRange extends NumericRange {
  readonly label: string;
}

/** Parses the config's ranges; throws naming the index and value of a bad one. */
export function parseRanges(ranges: readonly { readonly start: string; readonly end: string }[]): IntRange[] {
  return ranges.map((r, i) => {
    const first = parseIpv4(r.start);
    const last = parseIpv4(r.end);
    if (first === undefined || last === undefined || last < first) {
      throw new Error(`network.addressRanges[${i}]: '${r.start}-${r.end}' is not an IPv4 range start-end with start <= end`);
    }
    return { first, last, label: `${r.start}-${r.end}` };
  });
}

export function inRanges(ip: string, ranges: readonly IntRange[]): IntRange | undefined {
  const value = parseIpv4(ip.trim());
  if (value === undefined) return undefined;
  return ranges.find((r) => contains(r, single(value)));
}

/** Where a guest's address was seen. */
export type AddressSource = "ipconfig" | "lxc-net" | "guest-agent" | "capmox-tag";

export interface GuestAddress {
  readonly vmid: number;
  readonly node: string;
  readonly name?: string;
  readonly ip: string;
  readonly source: AddressSource;
  /** e.g. `ipconfig0`, `net1`, `eth0`, `ip_net0_10.0.0.5` */
  readonly where: string;
}

/** `ip=10.0.0.5/24` inside a property string; `dhcp`/`manual` yield nothing. */
function ipFromPropertyString(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  for (const part of value.split(",")) {
    const [k, v] = part.split("=", 2);
    if (k?.trim() === "ip" && v) {
      const ip = v.trim().split("/")[0] ?? "";
      if (parseIpv4(ip) !== undefined) return ip;
    }
  }
  return undefined;
}

/** Addresses named in a QEMU (`ipconfigN`) or LXC (`netN` with `ip=`) config. */
export function addressesFromConfig(
  guest: { vmid: number; node: string; name?: string; type: "qemu" | "lxc" },
  config: Readonly<Record<string, unknown>>,
): GuestAddress[] {
  const key = guest.type === "qemu" ? /^ipconfig\d+$/ : /^net\d+$/;
  const source: AddressSource = guest.type === "qemu" ? "ipconfig" : "lxc-net";
  const out: GuestAddress[] = [];
  for (const k of Object.keys(config).filter((x) => key.test(x)).sort()) {
    const ip = ipFromPropertyString(config[k]);
    if (ip) out.push({ vmid: guest.vmid, node: guest.node, ...(guest.name ? { name: guest.name } : {}), ip, source, where: k });
  }
  return out;
}

/** capmox's `ip_net<N>_<address>` tags. */
export function addressesFromTags(guest: { vmid: number; node: string; name?: string }, tags: string | undefined): GuestAddress[] {
  const out: GuestAddress[] = [];
  for (const tag of (tags ?? "").split(";")) {
    const m = /^ip_(net\d+)_(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(tag.trim());
    if (m && parseIpv4(m[2]) !== undefined) {
      out.push({ vmid: guest.vmid, node: guest.node, ...(guest.name ? { name: guest.name } : {}), ip: m[2] as string, source: "capmox-tag", where: tag.trim() });
    }
  }
  return out;
}

/** IPv4 addresses the guest agent reports, without loopback and link-local. */
export function addressesFromAgent(
  guest: { vmid: number; node: string; name?: string },
  interfaces: readonly { name: string; "ip-addresses"?: readonly { "ip-address": string; "ip-address-type": string }[] }[],
): GuestAddress[] {
  const out: GuestAddress[] = [];
  for (const iface of interfaces) {
    for (const addr of iface["ip-addresses"] ?? []) {
      const ip = addr["ip-address"];
      if (addr["ip-address-type"] !== "ipv4" || ip.startsWith("127.") || ip.startsWith("169.254.")) continue;
      out.push({ vmid: guest.vmid, node: guest.node, ...(guest.name ? { name: guest.name } : {}), ip, source: "guest-agent", where: iface.name });
    }
  }
  return out;
}

export interface RangeConflict {
  readonly ip: string;
  readonly range: string;
  readonly users: readonly GuestAddress[];
}

/**
 * Addresses inside the pool that a guest uses without capmox having allocated them to that
 * guest. An address capmox tagged on the same guest is IPAM's own allocation, not a conflict.
 */
export function findConflicts(addresses: readonly GuestAddress[], ranges: readonly IntRange[]): {
  conflicts: RangeConflict[];
  managed: GuestAddress[];
} {
  const tagged = new Set(addresses.filter((a) => a.source === "capmox-tag").map((a) => `${a.vmid}/${a.ip}`));
  const byIp = new Map<string, GuestAddress[]>();
  const managed: GuestAddress[] = [];
  for (const a of addresses) {
    if (!inRanges(a.ip, ranges)) continue;
    if (tagged.has(`${a.vmid}/${a.ip}`)) {
      if (a.source === "capmox-tag") managed.push(a);
      continue;
    }
    byIp.set(a.ip, [...(byIp.get(a.ip) ?? []), a]);
  }
  const conflicts = [...byIp.entries()]
    .sort(([a], [b]) => (parseIpv4(a) ?? 0) - (parseIpv4(b) ?? 0))
    .map(([ip, users]) => ({ ip, range: inRanges(ip, ranges)?.label ?? "", users }));
  return { conflicts, managed };
}
