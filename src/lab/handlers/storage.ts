/**
 * Storage endpoints: node storage list/status, content list/get/allocate/delete, ISO upload
 * (multipart), and the datacenter storage config (/storage).
 */
import { createHash } from "node:crypto";
import type { Handler, HandlerContext } from "../context.js";
import { businessError, paramError, PveError } from "../errors.js";
import { parseSize } from "../property-string.js";
import type { LabState, LabStorage, LabVolume } from "../state.js";

const FILE_TYPES = new Set(["dir", "nfs", "cifs", "cephfs"]);

/** A storage as `/nodes/{node}/storage` lists it. */
export function storageSummary(state: LabState, st: LabStorage, node: string): Record<string, unknown> {
  const used = state.usedBytes(st.id, node);
  const entry: Record<string, unknown> = {
    storage: st.id,
    type: st.type,
    content: [...st.content].sort().join(","),
    shared: st.shared ? 1 : 0,
    enabled: st.enabled ? 1 : 0,
    active: st.enabled ? 1 : 0,
  };
  if (st.enabled) {
    Object.assign(entry, {
      total: st.totalBytes,
      used,
      avail: st.totalBytes - used,
      used_fraction: Math.round((used / st.totalBytes) * 1e6) / 1e6,
    });
  }
  return entry;
}

function storageOf(ctx: HandlerContext): LabStorage {
  const id = ctx.need("storage");
  const st = ctx.state.storageOn(id, ctx.need("node"));
  if (!st) throw businessError(`storage '${id}' does not exist`);
  return st;
}

function canSeeStorage(ctx: HandlerContext, id: string): boolean {
  return ctx.access.has(ctx.auth.authid, `/storage/${id}`, ["Datastore.Audit", "Datastore.AllocateSpace"], true);
}

const list: Handler = (ctx) => {
  const node = ctx.need("node");
  const content = ctx.str("content")?.split(",").filter(Boolean);
  const onlyEnabled = ctx.flag("enabled") ?? false;
  const only = ctx.str("storage");
  return [...ctx.state.storages.values()]
    .filter((st) => ctx.state.storageOn(st.id, node))
    .filter((st) => only === undefined || st.id === only)
    .filter((st) => !onlyEnabled || st.enabled)
    .filter((st) => content === undefined || content.some((c) => st.content.includes(c)))
    .filter((st) => canSeeStorage(ctx, st.id))
    .map((st) => storageSummary(ctx.state, st, node));
};

const status: Handler = (ctx) => storageSummary(ctx.state, storageOf(ctx), ctx.need("node"));

function volumeEntry(st: LabStorage, v: LabVolume): Record<string, unknown> {
  return {
    volid: `${st.id}:${v.volname}`,
    content: v.content,
    format: v.format,
    size: v.size,
    ...(v.content === "images" ? { used: 0 } : {}),
    ...(v.vmid === undefined ? {} : { vmid: v.vmid }),
    ...(v.parent === undefined ? {} : { parent: v.parent }),
    ctime: v.ctime,
  };
}

const content: Handler = (ctx) => {
  const st = storageOf(ctx);
  const kind = ctx.str("content");
  const vmid = ctx.int("vmid");
  return ctx.state
    .volumesOf(st.id, ctx.need("node"))
    .filter((v) => kind === undefined || v.content === kind)
    .filter((v) => vmid === undefined || v.vmid === vmid)
    .map((v) => volumeEntry(st, v));
};

/** `{volume}` may be a full volid or a name within `{storage}`. */
function volumeOf(ctx: HandlerContext): { st: LabStorage; volume: LabVolume; volid: string } {
  const node = ctx.need("node");
  const raw = ctx.need("volume");
  const storage = ctx.str("storage");
  const volid = raw.includes(":") ? raw : `${storage ?? ""}:${raw}`;
  const sid = volid.slice(0, volid.indexOf(":"));
  const st = ctx.state.storageOn(sid, node);
  if (!st) throw businessError(`storage '${sid}' does not exist`);
  const volume = ctx.state.findVolume(volid, node);
  if (!volume) throw businessError(`volume '${volid}' does not exist`);
  return { st, volume, volid };
}

const volumeInfo: Handler = (ctx) => {
  const { st, volume } = volumeOf(ctx);
  ctx.access.check(ctx.auth.authid, `/storage/${st.id}`, ["Datastore.Audit", "Datastore.AllocateSpace"], true);
  const base = st.type === "lvmthin" || st.type === "lvm" ? `/dev/pve/${volume.volname}` : `/var/lib/vz/${volume.volname.replace(/^iso\//, "template/iso/")}`;
  return { path: base, size: volume.size, used: volume.size, format: volume.format };
};

const allocate: Handler = (ctx) => {
  const st = storageOf(ctx);
  const node = ctx.need("node");
  const vmid = ctx.int("vmid") ?? 0;
  const filename = ctx.need("filename");
  const sizeText = ctx.need("size");
  const size = parseSize(sizeText, "K");
  if (size === undefined) throw paramError({ size: "unable to parse size" });
  if (!st.content.includes("images")) throw businessError(`storage '${st.id}' does not support vm images`);
  if (!new RegExp(`^vm-${vmid}-`).test(filename) && !new RegExp(`^base-${vmid}-`).test(filename)) {
    throw businessError(`illegal name '${filename}' - should be 'vm-${vmid}-*'`);
  }
  const fileBased = FILE_TYPES.has(st.type);
  const format = ctx.str("format") ?? (fileBased ? "raw" : "raw");
  const volname = fileBased ? `${vmid}/${filename}${/\.(raw|qcow2|vmdk)$/.test(filename) ? "" : `.${format}`}` : filename;
  if (ctx.state.findVolume(`${st.id}:${volname}`, node)) throw businessError(`volume '${st.id}:${volname}' already exists`);
  ctx.state.addVolume({
    storage: st.id,
    ...(st.shared ? {} : { node }),
    volname,
    content: "images",
    format,
    size,
    vmid,
    ctime: Math.floor(Date.now() / 1000),
  });
  return `${st.id}:${volname}`;
};

const deleteVolume: Handler = async (ctx) => {
  const node = ctx.need("node");
  const { st, volume, volid } = volumeOf(ctx);
  ctx.access.check(ctx.auth.authid, `/storage/${st.id}`, ["Datastore.Allocate"]);
  const upid = ctx.startTask({
    node,
    type: "imgdel",
    id: `${volume.vmid ?? ""}@${st.id}`,
    log: [`Removing image: 100% complete...done.`],
    work: () => {
      const inUse = [...ctx.state.vms.values()].find((vm) => Object.values(vm.config).some((v) => v.split(",")[0] === volid));
      if (inUse && volume.content === "images") throw new Error(`volume '${volid}' is still in use (by VM ${inUse.vmid})`);
      ctx.state.removeVolume(volume);
    },
  });
  const delay = ctx.int("delay");
  return delay === undefined ? upid : ctx.awaitTask(upid, delay, "image delete");
};

const EXTENSIONS: Record<string, RegExp> = {
  iso: /\.(iso|img)$/i,
  vztmpl: /\.tar\.(gz|xz|zst|bz2)$/i,
  import: /\.(ova|qcow2|raw|vmdk)$/i,
};

/**
 * An upload that does not fit fails its task as PVE's copy does on a full disk: past the
 * storage's capacity, or past what the lab keeps in memory (LabLimits.maxStoredBytes).
 */
function checkRoom(ctx: HandlerContext, st: LabStorage, node: string, growth: number, held: number): void {
  const full = ctx.state.usedBytes(st.id, node) + growth > st.totalBytes || ctx.state.storedBytes() + held > ctx.state.maxStoredBytes;
  if (full) throw new Error(`copy failed: No space left on device (storage '${st.id}')`);
}

const upload: Handler = (ctx) => {
  const st = storageOf(ctx);
  const node = ctx.need("node");
  const kind = ctx.need("content");
  const file = ctx.files.get("filename");
  if (!file) throw paramError({ filename: "missing file upload" });
  const name = ctx.need("filename").replace(/[^-_.a-zA-Z0-9]/g, "_");
  if (!(EXTENSIONS[kind]?.test(name) ?? false)) throw paramError({ filename: "wrong file extension" });
  if (!st.content.includes(kind)) throw businessError(`storage '${st.id}' does not support '${kind}' content`);
  if (!FILE_TYPES.has(st.type)) throw businessError(`can't upload to storage type '${st.type}'`);
  const checksum = ctx.str("checksum");
  const algorithm = ctx.str("checksum-algorithm");
  const dir = kind === "iso" ? "iso" : kind === "vztmpl" ? "vztmpl" : "import";
  const volname = `${dir}/${name}`;
  return ctx.startTask({
    node,
    type: "imgcopy",
    id: "",
    log: [`starting file import from: /var/tmp/pveupload-${createHash("md5").update(name).digest("hex")}`, `target node: ${node}`],
    work: () => {
      if (checksum !== undefined && algorithm !== undefined) {
        const actual = createHash(algorithm).update(file.data).digest("hex");
        if (actual !== checksum.toLowerCase()) throw new Error(`checksum mismatch: got '${actual}' != expected '${checksum}'`);
      }
      const existing = ctx.state.findVolume(`${st.id}:${volname}`, node);
      const kept = kind === "iso" ? file.data.length - (existing?.data?.length ?? 0) : 0;
      checkRoom(ctx, st, node, file.data.length - (existing?.size ?? 0), kept);
      if (existing) ctx.state.removeVolume(existing);
      ctx.state.addVolume({
        storage: st.id,
        ...(st.shared ? {} : { node }),
        volname,
        content: kind,
        format: kind === "iso" ? "iso" : kind === "vztmpl" ? "tzst" : "raw",
        size: file.data.length,
        ctime: Math.floor(Date.now() / 1000),
        ...(kind === "iso" ? { data: file.data } : {}),
      });
      return [`target file: /var/lib/vz/template/${dir}/${name}`, `file size is: ${file.data.length}`, "finished file import successfully"];
    },
  });
};

function storageConfig(st: LabStorage): Record<string, unknown> {
  return {
    storage: st.id,
    type: st.type,
    content: [...st.content].sort().join(","),
    ...(st.shared ? { shared: 1 } : {}),
    ...(st.nodes ? { nodes: st.nodes.join(",") } : {}),
    ...(st.enabled ? {} : { disable: 1 }),
    ...(FILE_TYPES.has(st.type) ? { path: st.type === "dir" ? "/var/lib/vz" : `/mnt/pve/${st.id}` } : {}),
    ...(st.type === "lvmthin" ? { thinpool: "data", vgname: "pve" } : {}),
    digest: createHash("sha1").update(st.id).digest("hex"),
  };
}

const storageIndex: Handler = (ctx) => {
  const type = ctx.str("type");
  return [...ctx.state.storages.values()]
    .filter((st) => type === undefined || st.type === type)
    .filter((st) => canSeeStorage(ctx, st.id))
    .map(storageConfig);
};

const storageRead: Handler = (ctx) => {
  const id = ctx.need("storage");
  const st = ctx.state.storages.get(id);
  if (!st) throw new PveError(500, `storage '${id}' does not exist`);
  return storageConfig(st);
};

export const storageHandlers: Record<string, Handler> = {
  "GET /nodes/{node}/storage": list,
  "GET /nodes/{node}/storage/{storage}/status": status,
  "GET /nodes/{node}/storage/{storage}/content": content,
  "POST /nodes/{node}/storage/{storage}/content": allocate,
  "GET /nodes/{node}/storage/{storage}/content/{volume}": volumeInfo,
  "DELETE /nodes/{node}/storage/{storage}/content/{volume}": deleteVolume,
  "POST /nodes/{node}/storage/{storage}/upload": upload,
  "GET /storage": storageIndex,
  "GET /storage/{storage}": storageRead,
};
