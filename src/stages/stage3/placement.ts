/**
 * How capmox v0.7 places a new VM among the allowed nodes (internal/service/scheduler):
 * it ranks the nodes by reservable memory (total memory less the memory of every VM on the
 * node), refuses when even the first cannot take the VM, and otherwise distributes round-
 * robin: the node that holds the fewest of this cluster's VMs, provided it still has room
 * for one more; if it has none, the node with the most reservable memory.
 *
 * Stage 3 holds a finished placement against that rule: with room everywhere, the cluster's
 * VMs are spread so that no allowed node holds two more than another; a node that lacked
 * room may hold fewer. Every VM must sit on an allowed node.
 */

/** One allowed node as stage 3 measures it after scaling. */
export interface NodePlacement {
  readonly node: string;
  /** Memory of the node (`memory.total`). */
  readonly totalBytes: number;
  /** Sum of `maxmem` of every VM and template on the node, the test VMs included. */
  readonly committedBytes: number;
  /** How many of the test cluster's VMs are on it. */
  readonly testVms: number;
}

/**
 * The problems with a placement, empty when it is what capmox's scheduler decides. Free
 * memory only shrinks as VMs are added, so a node that still has room at the end had room
 * at every decision: when all have, every decision was round-robin.
 */
export function placementProblems(nodes: readonly NodePlacement[], strayNodes: readonly string[]): string[] {
  const problems = strayNodes.map((n) => `a test VM is on ${n}, which is not an allowed node`);
  const free = (n: NodePlacement): number => n.totalBytes - n.committedBytes;
  if (nodes.length > 0 && nodes.every((n) => free(n) >= 0)) {
    const counts = nodes.map((n) => n.testVms);
    if (Math.max(...counts) - Math.min(...counts) > 1) {
      problems.push(`the VMs are not spread round-robin although every allowed node had room: ${describePlacement(nodes)}`);
    }
  }
  for (const n of nodes.filter((x) => free(x) < 0 && x.testVms > 0)) {
    problems.push(`${n.node} holds ${n.testVms} test VM(s) but its VMs need more memory (${mib(n.committedBytes)}) than it has (${mib(n.totalBytes)})`);
  }
  return problems;
}

const mib = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MiB`;

/** `pve1 1 (free 60416 MiB), pve2 1 (…)`: the placement as the check reports it. */
export function describePlacement(nodes: readonly NodePlacement[]): string {
  return nodes.map((n) => `${n.node} ${n.testVms} (free ${mib(n.totalBytes - n.committedBytes)})`).join(", ");
}
