/**
 * Identifiers PVE generates: MAC addresses (Proxmox OUI BC:24:11), SMBIOS/vmgenid UUIDs,
 * token secrets and digests. All draw from the lab's seeded random source so a seeded lab
 * is reproducible.
 */
import { createHash } from "node:crypto";

/** A random source returning [0, 1). */
export type Random = () => number;

function hexBytes(random: Random, n: number): string[] {
  return Array.from({ length: n }, () =>
    Math.floor(random() * 256)
      .toString(16)
      .padStart(2, "0"),
  );
}

/** A MAC address in Proxmox's range, upper-case as PVE writes it (`BC:24:11:2E:C5:4A`). */
export function newMac(random: Random): string {
  return ["BC", "24", "11", ...hexBytes(random, 3)].join(":").toUpperCase();
}

/** A version-4 UUID. */
export function newUuid(random: Random): string {
  const b = hexBytes(random, 16);
  b[6] = (4 * 16 + (parseInt(b[6] ?? "0", 16) & 0x0f)).toString(16).padStart(2, "0");
  b[8] = ((parseInt(b[8] ?? "0", 16) & 0x3f) | 0x80).toString(16).padStart(2, "0");
  const h = b.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** SHA-1 hex of a text (PVE's config `digest`). */
export function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}
