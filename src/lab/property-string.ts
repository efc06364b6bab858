/**
 * PVE property strings (`virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1`,
 * `local-lvm:vm-101-disk-0,size=32G`): parsing into ordered key/value pairs and printing back
 * without reordering, so round trips keep PVE's layout.
 */

/** Ordered key/value pairs; a value-only first item has key `""`. */
export type PropertyList = Array<[key: string, value: string]>;

/** Parses `a,b=c,d=e` into `[["", "a"], ["b", "c"], ["d", "e"]]`. */
export function parsePropertyString(text: string): PropertyList {
  if (text === "") return [];
  return text.split(",").map((part): [string, string] => {
    const eq = part.indexOf("=");
    return eq < 0 ? ["", part] : [part.slice(0, eq), part.slice(eq + 1)];
  });
}

/** Prints pairs back (`""` keys print as bare values). */
export function printPropertyString(list: PropertyList): string {
  return list.map(([k, v]) => (k === "" ? v : `${k}=${v}`)).join(",");
}

/** The value of `key` or undefined. */
export function getProperty(list: PropertyList, key: string): string | undefined {
  return list.find(([k]) => k === key)?.[1];
}

/** Sets (or appends) `key`. */
export function setProperty(list: PropertyList, key: string, value: string): PropertyList {
  const i = list.findIndex(([k]) => k === key);
  if (i >= 0) {
    const copy = [...list];
    copy[i] = [key, value];
    return copy;
  }
  return [...list, [key, value]];
}

/** Sizes such as `32G`, `512M`, `+10G`, `1.5T` in bytes (no unit = bytes, as PVE's `size=`). */
export function parseSize(text: string, defaultUnit: "" | "K" = ""): number | undefined {
  const m = /^\+?(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text);
  if (!m) return undefined;
  const unit = m[2] || defaultUnit;
  const mult = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

/** Bytes as PVE prints a disk `size=` (largest exact unit: `32G`, `1536M`). */
export function formatSize(bytes: number): string {
  for (const [unit, mult] of [
    ["T", 1024 ** 4],
    ["G", 1024 ** 3],
    ["M", 1024 ** 2],
    ["K", 1024],
  ] as const) {
    if (bytes >= mult && bytes % mult === 0) return `${bytes / mult}${unit}`;
  }
  return String(bytes);
}
