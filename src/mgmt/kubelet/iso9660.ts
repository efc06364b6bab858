/**
 * Reading the root directory of an ISO 9660 image, as Linux's isofs shows it to cloud-init's
 * NoCloud data source: a file's Rock Ridge name (`NM`) where the image has one (go-proxmox
 * writes Rock Ridge images), else its ISO name lower-cased without the `;1` version.
 * Only what the kubelet stand-in needs: the files of the root directory and the volume label.
 */

const SECTOR = 2048;

export class IsoError extends Error {
  override readonly name = "IsoError";
}

/** The volume label and the files of the root directory, by name. */
export interface IsoRoot {
  readonly volumeId: string;
  readonly files: ReadonlyMap<string, Buffer>;
}

function primaryVolumeDescriptor(image: Buffer): Buffer {
  for (let sector = 16; (sector + 1) * SECTOR <= image.length; sector++) {
    const d = image.subarray(sector * SECTOR, (sector + 1) * SECTOR);
    if (d.toString("latin1", 1, 6) !== "CD001") throw new IsoError(`sector ${sector} is not a volume descriptor`);
    if (d[0] === 1) return d;
    if (d[0] === 255) break;
  }
  throw new IsoError("no primary volume descriptor");
}

/** The Rock Ridge alternate name in a directory record's system use area, if any. */
function rockRidgeName(systemUse: Buffer): string | undefined {
  let name = "";
  let found = false;
  for (let i = 0; i + 4 <= systemUse.length; ) {
    const length = systemUse[i + 2] ?? 0;
    if (length < 4) break;
    if (systemUse.toString("latin1", i, i + 2) === "NM") {
      found = true;
      name += systemUse.toString("utf8", i + 5, i + length);
    }
    i += length;
  }
  return found ? name : undefined;
}

function isoName(raw: string): string {
  return raw.replace(/;\d+$/, "").replace(/\.$/, "").toLowerCase();
}

/** The root directory of an image. Throws IsoError on anything that is not ISO 9660. */
export function readIsoRoot(image: Buffer): IsoRoot {
  const pvd = primaryVolumeDescriptor(image);
  // Space-padded by the standard; some writers (go-diskfs) pad with NULs.
  const volumeId = pvd.toString("latin1", 40, 72).replace(/[\0 ]+$/, "");
  const root = pvd.subarray(156, 190);
  const extent = root.readUInt32LE(2) * SECTOR;
  const size = root.readUInt32LE(10);
  if (extent + size > image.length) throw new IsoError("the root directory lies outside the image");
  const files = new Map<string, Buffer>();
  for (let offset = extent; offset < extent + size; ) {
    const length = image[offset] ?? 0;
    if (length === 0) {
      // Records never cross a sector: the rest of this one is padding.
      offset = (Math.floor((offset - extent) / SECTOR) + 1) * SECTOR + extent;
      continue;
    }
    const record = image.subarray(offset, offset + length);
    offset += length;
    const nameLength = record[32] ?? 0;
    const raw = record.toString("latin1", 33, 33 + nameLength);
    if (raw === "\0" || raw === "\x01" || ((record[25] ?? 0) & 2) !== 0) continue;
    const systemUse = record.subarray(33 + nameLength + (nameLength % 2 === 0 ? 1 : 0));
    const start = record.readUInt32LE(2) * SECTOR;
    const dataLength = record.readUInt32LE(10);
    if (start + dataLength > image.length) throw new IsoError(`file ${raw} lies outside the image`);
    files.set(rockRidgeName(systemUse) ?? isoName(raw), image.subarray(start, start + dataLength));
  }
  return { volumeId, files };
}
