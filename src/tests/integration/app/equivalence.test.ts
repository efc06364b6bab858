/**
 * One source of truth: the app chart, rendered by the real helm, gives the same Cluster API
 * objects as src/capi's constructs: names (the hashed template names included), labels,
 * annotations and specs, field for field.
 *
 * - For every tenant of a matrix of configs, the `Kubernetes` custom resource `npm run synth`
 *   emits, rendered as CozyStack would (values = its spec, release `kubernetes-<name>`, its
 *   namespace), against `tenantObjects` of the same config.
 * - Values written by hand (other spellings of the same sizes, defaults) against the
 *   constructs of the equivalent tenant config.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emittedKinds, tenantObjects } from "../../../capi/index.js";
import { defaultNodeGroup, defaultTenant } from "../../../config/index.js";
import type { PlatformConfig, TenantConfig } from "../../../config/types.js";
import { defaultKubernetesVersion, releaseName, tenantResource } from "../../../cozystack/app/index.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";
import { equivalenceCases } from "./cases.js";
import { byIdentity, helmTemplate, identity, scratch, writeAppCharts, type Obj } from "./helm-app.js";

const capiKinds = new Set(Object.values(emittedKinds).flat());
const tmp = scratch("app-equivalence-");
afterAll(tmp.dispose);

let chartCount = 0;
const chartFor = (config: PlatformConfig): string => writeAppCharts(`${tmp.dir}/${chartCount++}`, config).app;

function constructs(config: PlatformConfig, tenant: TenantConfig): Obj[] {
  const objects = tenantObjects(config).get(`${tenant.name}.yaml`);
  if (!objects) throw new Error(`no objects for tenant ${tenant.name}`);
  return objects as Obj[];
}

/** Same identities, then each object equal; only the chart's CAPI objects take part. */
function expectSameObjects(fromChart: readonly Obj[], fromConstructs: readonly Obj[]): void {
  const chart = byIdentity(fromChart.filter((o) => capiKinds.has(o.kind)));
  const expected = byIdentity(fromConstructs);
  expect([...chart.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [id, object] of expected) expect(chart.get(id), id).toEqual(object);
}

describe("custom resource of each tenant, rendered through the chart = the tenant's constructs", () => {
  for (const c of equivalenceCases) {
    describe(c.name, () => {
      let chart: string;
      beforeAll(() => {
        chart = chartFor(c.config);
      });
      for (const tenant of c.config.tenants) {
        it(`tenant ${tenant.name}`, async () => {
          const resource = tenantResource(c.config, tenant);
          const objects = await helmTemplate(chart, { release: releaseName(tenant), namespace: tenant.namespace, values: resource.spec as Record<string, unknown> });
          const expected = constructs(c.config, tenant);
          expectSameObjects(objects, expected);
          // the hashed template names really are hashed names, and both sides agree on them
          const templates = objects.filter((o) => o.kind === "ProxmoxMachineTemplate" || o.kind === "KubeadmConfigTemplate");
          expect(templates.length).toBe(2 * tenant.nodeGroups.length);
          for (const t of templates) expect(t.metadata.name).toMatch(/-[0-9a-f]{8}$/);
        });
      }
    });
  }
});

describe("values written by hand = the constructs of the equivalent tenant", () => {
  const platform = testPlatformConfig();
  let chart: string;
  beforeAll(() => {
    chart = chartFor(platform);
  });

  async function check(values: Record<string, unknown> | undefined, tenant: TenantConfig): Promise<Obj[]> {
    const objects = await helmTemplate(chart, { release: releaseName(tenant), namespace: tenant.namespace, values });
    expectSameObjects(objects, constructs({ ...platform, tenants: [tenant] }, tenant));
    return objects;
  }

  it("the chart's defaults: one group md0 with the config's node-group defaults, the platform's addresses", async () => {
    const tenant: TenantConfig = { ...defaultTenant("demo", defaultKubernetesVersion), nodeGroups: [defaultNodeGroup("md0")] };
    await check(undefined, tenant);
  });

  it("sizes as quantities, replicas from minReplicas, roles beside labels, sockets", async () => {
    const values = {
      version: "v1.30.2",
      nodeGroups: {
        web: { minReplicas: 1, maxReplicas: 4, resources: { cpu: "4", memory: "8192Mi" }, sockets: 2, ephemeralStorage: "30Gi", roles: ["web", "ingress-nginx"], labels: { "example.com/x": "y" } },
        db: { replicas: 2, resources: { cpu: 8, memory: "32Gi" } },
      },
    };
    const tenant: TenantConfig = {
      ...defaultTenant("shop", "v1.30.2"),
      nodeGroups: [
        {
          ...defaultNodeGroup("web"),
          replicas: 1,
          minReplicas: 1,
          maxReplicas: 4,
          sockets: 2,
          cores: 2,
          memoryMiB: 8192,
          diskGiB: 30,
          labels: { "node-role.kubernetes.io/web": "", "node-role.kubernetes.io/ingress-nginx": "", "example.com/x": "y" },
        },
        { ...defaultNodeGroup("db"), replicas: 2, minReplicas: 2, maxReplicas: 2, cores: 8, memoryMiB: 32768 },
      ],
    };
    const objects = await check(values, tenant);
    // scale from zero needs capacity: it comes from the explicit resources
    const md = objects.find((o) => o.kind === "MachineDeployment" && o.metadata.name === "shop-web") as unknown as { metadata: { annotations: Record<string, string> } };
    expect(md.metadata.annotations).toMatchObject({
      "capacity.cluster-autoscaler.kubernetes.io/cpu": "4",
      "capacity.cluster-autoscaler.kubernetes.io/memory": "8192Mi",
      "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size": "1",
      "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size": "4",
    });
  });

  it("no node groups at all with nodeGroups: {}", async () => {
    await check({ nodeGroups: {} }, { ...defaultTenant("empty", defaultKubernetesVersion), nodeGroups: [] });
  });

  it("a changed VM spec renames its ProxmoxMachineTemplate and MachineDeployment follows; an unchanged group keeps its names", async () => {
    const groups = (memory: string) => ({ a: { resources: { cpu: 2, memory } }, b: {} });
    const before = await helmTemplate(chart, { release: "kubernetes-roll", namespace: "tenant-roll", values: { nodeGroups: groups("4Gi") } });
    const after = await helmTemplate(chart, { release: "kubernetes-roll", namespace: "tenant-roll", values: { nodeGroups: groups("8Gi") } });
    const names = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind).map(identity).sort();
    const [a0, b0] = names(before, "ProxmoxMachineTemplate");
    const [a1, b1] = names(after, "ProxmoxMachineTemplate");
    expect(a1).not.toBe(a0);
    expect(b1).toBe(b0);
    expect(names(after, "KubeadmConfigTemplate")).toEqual(names(before, "KubeadmConfigTemplate"));
    type Md = { spec: { template: { spec: { infrastructureRef: { name: string } } } } };
    const ref = (objects: Obj[]) => (objects.find((o) => o.kind === "MachineDeployment" && o.metadata.name === "roll-a") as unknown as Md).spec.template.spec.infrastructureRef.name;
    expect(ref(after)).not.toBe(ref(before));
    expect(a1).toContain(ref(after));
  });
});
