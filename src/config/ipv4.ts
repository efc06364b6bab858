/**
 * IPv4 arithmetic, for config validation and the stages: addresses as unsigned 32-bit numbers.
 * Only IPv4: capmox's ipv4Config is what the node network feeds.
 */

/** An address range, inclusive, as numbers. */
export interface NumericRange {
  readonly first: number;
  readonly last: number;
}

const octet = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const ipv4Pattern = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`);

/** The address as a number, or undefined when it is not a dotted quad. */
export function parseIpv4(text: unknown): number | undefined {
  if (typeof text !== "string" || !ipv4Pattern.test(text)) return undefined;
  return text.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The block of `address/prefix`: network address first, broadcast address last. */
export function subnetOf(address: number, prefix: number): NumericRange {
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  return { first, last: first + size - 1 };
}

/** A `a.b.c.d/n` CIDR as a range; undefined when malformed. `exact` also requires zero host bits. */
export function parseCidr(text: unknown): (NumericRange & { readonly exact: boolean; readonly prefix: number }) | undefined {
  if (typeof text !== "string") return undefined;
  const [ip, bits, extra] = text.split("/");
  const address = parseIpv4(ip);
  const prefix = Number(bits);
  if (address === undefined || extra !== undefined || !/^\d{1,2}$/.test(bits ?? "") || prefix > 32) return undefined;
  const range = subnetOf(address, prefix);
  return { ...range, prefix, exact: range.first === address };
}

export function contains(outer: NumericRange, inner: NumericRange): boolean {
  return inner.first >= outer.first && inner.last <= outer.last;
}

export function overlaps(a: NumericRange, b: NumericRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}

export function single(n: number): NumericRange {
  return { first: n, last: n };
}
