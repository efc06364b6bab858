/**
 * Whether a tenant's worst case fits before a VM is cloned: every node group at maxReplicas
 * plus one surge machine, placed by capmox's scheduler rule (v0.7, vmscheduler.go): a node's
 * reservable memory is its total × memoryAdjustment % minus the `maxmem` of the guests on it
 * (templates excluded); a machine goes to a node it fits on, the one with the fewest machines
 * of its group, then the most reservable memory. Disks of full clones against the disk
 * storage's free space; VMIDs against the tenant's range. Pure: the check feeds it API data.
 */

/** capmox's default `schedulerHints.memoryAdjustment` (synth does not set it): 100 %. */
export const DEFAULT_MEMORY_ADJUSTMENT = 100;

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

export interface NodeCapacity {
  readonly name: string;
  readonly online: boolean;
  readonly memoryTotalBytes: number;
  /** Σ maxmem of the guests already on the node that are not the tenant's own. */
  readonly reservedBytes: number;
  readonly cpus: number;
}

export interface GroupDemand {
  readonly group: string;
  /** maxReplicas + 1 surge machine. */
  readonly machines: number;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly diskGiB: number;
  readonly allowedNodes: readonly string[];
}

export interface Unplaced {
  readonly group: string;
  readonly count: number;
  readonly memoryMiB: number;
  /** The allowed node with the most reservable memory left when placement stopped, if any. */
  readonly bestNode?: string;
  readonly bestFreeMiB?: number;
}

export interface PlacementResult {
  /** Machines per node. */
  readonly placed: ReadonlyMap<string, number>;
  /** Bytes of full-clone disks per node (for a storage that is not shared). */
  readonly diskBytes: ReadonlyMap<string, number>;
  readonly unplaced: readonly Unplaced[];
  /** Reservable memory per node before and after placing, MiB. */
  readonly freeBeforeMiB: ReadonlyMap<string, number>;
  readonly freeAfterMiB: ReadonlyMap<string, number>;
  /** Groups whose VM has more vCPUs than an allowed node has CPUs (PVE refuses to start it). */
  readonly tooManyCpus: readonly { readonly group: string; readonly vcpus: number; readonly node: string; readonly cpus: number }[];
}

/** Reservable memory of a node in bytes under capmox's rule. */
export function reservableBytes(node: NodeCapacity, adjustment: number = DEFAULT_MEMORY_ADJUSTMENT): number {
  return Math.floor((node.memoryTotalBytes * adjustment) / 100) - node.reservedBytes;
}

/** Places every machine of every group as capmox would, one at a time. */
export function simulatePlacement(nodes: readonly NodeCapacity[], demands: readonly GroupDemand[], adjustment: number = DEFAULT_MEMORY_ADJUSTMENT): PlacementResult {
  const free = new Map(nodes.filter((n) => n.online).map((n) => [n.name, reservableBytes(n, adjustment)]));
  const freeBeforeMiB = new Map([...free].map(([n, b]) => [n, Math.floor(b / MiB)]));
  const placed = new Map<string, number>();
  const diskBytes = new Map<string, number>();
  const unplaced: Unplaced[] = [];
  const tooManyCpus: PlacementResult["tooManyCpus"][number][] = [];
  for (const d of demands) {
    const perGroup = new Map<string, number>();
    const need = d.memoryMiB * MiB;
    for (const name of d.allowedNodes) {
      const node = nodes.find((n) => n.name === name);
      if (node && node.cpus > 0 && d.vcpus > node.cpus) tooManyCpus.push({ group: d.group, vcpus: d.vcpus, node: name, cpus: node.cpus });
    }
    let left = d.machines;
    for (; left > 0; left--) {
      const candidates = d.allowedNodes.filter((n) => (free.get(n) ?? -Infinity) >= need);
      if (candidates.length === 0) break;
      candidates.sort((a, b) => (perGroup.get(a) ?? 0) - (perGroup.get(b) ?? 0) || (free.get(b) ?? 0) - (free.get(a) ?? 0) || a.localeCompare(b));
      const chosen = candidates[0]!;
      free.set(chosen, (free.get(chosen) ?? 0) - need);
      perGroup.set(chosen, (perGroup.get(chosen) ?? 0) + 1);
      placed.set(chosen, (placed.get(chosen) ?? 0) + 1);
      diskBytes.set(chosen, (diskBytes.get(chosen) ?? 0) + d.diskGiB * GiB);
    }
    if (left > 0) {
      const best = d.allowedNodes.filter((n) => free.has(n)).sort((a, b) => (free.get(b) ?? 0) - (free.get(a) ?? 0))[0];
      unplaced.push({
        group: d.group,
        count: left,
        memoryMiB: d.memoryMiB,
        ...(best === undefined ? {} : { bestNode: best, bestFreeMiB: Math.floor((free.get(best) ?? 0) / MiB) }),
      });
    }
  }
  const freeAfterMiB = new Map([...free].map(([n, b]) => [n, Math.floor(b / MiB)]));
  return { placed, diskBytes, unplaced, freeBeforeMiB, freeAfterMiB, tooManyCpus };
}

/** Bytes full clones of the worst case need on the disk storage. */
export function diskBytesNeeded(demands: readonly GroupDemand[]): number {
  return demands.reduce((sum, d) => sum + d.machines * d.diskGiB * GiB, 0);
}
