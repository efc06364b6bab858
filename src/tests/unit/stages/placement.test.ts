import { describe, expect, it } from "vitest";
import { diskBytesNeeded, reservableBytes, simulatePlacement, type GroupDemand, type NodeCapacity } from "../../../stages/stage2/placement-logic.js";

const MiB = 1024 ** 2;
const node = (name: string, totalMiB: number, reservedMiB = 0, cpus = 16, online = true): NodeCapacity => ({ name, online, memoryTotalBytes: totalMiB * MiB, reservedBytes: reservedMiB * MiB, cpus });
const group = (over: Partial<GroupDemand> = {}): GroupDemand => ({ group: "workers", machines: 3, memoryMiB: 4096, vcpus: 2, diskGiB: 20, allowedNodes: ["a", "b", "c"], ...over });

describe("capmox's placement, simulated", () => {
  it("reservable memory is total × adjustment % minus the other guests' maxmem", () => {
    expect(reservableBytes(node("a", 10240, 2048))).toBe(8192 * MiB);
    expect(reservableBytes(node("a", 10240, 2048), 50)).toBe(3072 * MiB);
  });

  it("spreads a group round-robin while every node has room", () => {
    const r = simulatePlacement([node("a", 16384), node("b", 16384), node("c", 16384)], [group()]);
    expect([...r.placed]).toEqual([["a", 1], ["b", 1], ["c", 1]]);
    expect(r.unplaced).toEqual([]);
    expect(r.freeAfterMiB.get("a")).toBe(12288);
  });

  it("puts machines where they fit, and reports the rest with the most memory left and where", () => {
    const r = simulatePlacement([node("a", 10240, 2048), node("b", 4096, 1024), node("c", 8192, 0, 16, false)], [group({ machines: 4 })]);
    expect([...r.placed]).toEqual([["a", 2]]);
    expect(r.unplaced).toEqual([{ group: "workers", count: 2, memoryMiB: 4096, bestNode: "b", bestFreeMiB: 3072 }]);
  });

  it("counts groups against the same nodes and VMs wider than a node", () => {
    const r = simulatePlacement([node("a", 8192, 0, 4)], [group({ machines: 1, allowedNodes: ["a"] }), group({ group: "big", machines: 1, memoryMiB: 8192, vcpus: 8, allowedNodes: ["a"] })]);
    expect(r.unplaced).toEqual([{ group: "big", count: 1, memoryMiB: 8192, bestNode: "a", bestFreeMiB: 4096 }]);
    expect(r.tooManyCpus).toEqual([{ group: "big", vcpus: 8, node: "a", cpus: 4 }]);
    expect(diskBytesNeeded([group(), group({ machines: 2, diskGiB: 50 })])).toBe((60 + 100) * 1024 ** 3);
  });
});
