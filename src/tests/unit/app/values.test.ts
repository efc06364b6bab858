/**
 * The app chart's values: the platform's defaults, a tenant's custom-resource spec, the
 * schema (charts/kubernetes-proxmox/values.schema.json, as a plain JSON Schema validator sees
 * it, the way the definition carries it).
 */
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { defaultConfig, defaultNodeGroup, defaultTenant } from "../../../config/index.js";
import type { PlatformConfig } from "../../../config/types.js";
import { AppValuesError, chartPatchReleases, chartValuesSchema, defaultValues, memoryQuantity, tenantValues, v16Version, valuesSchema } from "../../../cozystack/app/index.js";
import { getProfile } from "../../../versions/index.js";
import { testPlatformConfig } from "../../fixtures/platform-config.js";

describe("defaultValues: the platform's Proxmox settings", () => {
  it("carries template, nodes, bridge, VLAN, storage, format, pool and the node network", () => {
    const base = testPlatformConfig();
    const config: PlatformConfig = {
      ...base,
      proxmox: { ...base.proxmox, template: { kind: "tags", tags: ["k8s"], matchPolicy: "exact" }, vlan: 7, diskFormat: "raw", pool: "p1", fullClone: true },
    };
    const values = defaultValues(config);
    expect(values.proxmox).toEqual({
      template: { kind: "tags", tags: ["k8s"] },
      allowedNodes: ["pve1", "pve2", "pve3"],
      bridge: "vmbr0",
      vlan: 7,
      storage: "local-lvm",
      format: "raw",
      fullClone: true,
      pool: "p1",
      bootDevice: "scsi0",
      url: "https://pve1.lab.example:8006",
      insecure: false,
      region: "pve",
    });
    expect(values.network).toEqual({ addressRanges: [{ start: "10.0.0.100", end: "10.0.0.199" }], prefix: 24, gateway: "10.0.0.1", dnsServers: ["10.0.0.1"] });
    // Helm merges maps: a default group would join every user's groups
    expect(values).not.toHaveProperty("nodeGroups");
    expect(JSON.stringify(values)).not.toContain("PROXMOX_SECRET");
  });

  it("refuses a template match policy capmox v1alpha1 cannot express, naming the field", () => {
    const base = testPlatformConfig();
    const config: PlatformConfig = { ...base, proxmox: { ...base.proxmox, template: { kind: "tags", tags: ["k8s"], matchPolicy: "bestSubset" } } };
    expect(() => defaultValues(config)).toThrow(AppValuesError);
    expect(() => defaultValues(config)).toThrow(/proxmox\.template\.matchPolicy: "bestSubset"/);
  });
});

describe("tenantValues: the custom resource spec of a tenant", () => {
  const config = testPlatformConfig();
  const tenant = {
    ...defaultTenant("t1", "v1.31.2"),
    controlPlane: { replicas: 3, serviceType: "LoadBalancer" as const, address: "10.0.0.9", dataStore: "etcd-a" },
    nodeGroups: [
      {
        ...defaultNodeGroup("g"),
        replicas: 1,
        minReplicas: 0,
        maxReplicas: 3,
        sockets: 2,
        cores: 4,
        memoryMiB: 6152,
        diskGiB: 50,
        tags: ["x"],
        allowedNodes: ["pve1"],
        labels: { "node-role.kubernetes.io/ingress-nginx": "", "node-role.kubernetes.io/db": "yes", "node-role.kubernetes.io/A.B": "", "example.com/a": "b" },
      },
    ],
    sshAuthorizedKeys: ["ssh-ed25519 AAAA k"],
    addressRanges: [{ start: "10.0.0.150", end: "10.0.0.160" }],
  };

  it("writes sizes as the upstream app's resources, roles for empty node-role labels, the rest as labels", () => {
    expect(tenantValues({ ...config, tenants: [tenant] }, tenant)).toEqual({
      version: "v1.31.2",
      controlPlane: { replicas: 3, serviceType: "LoadBalancer", address: "10.0.0.9", dataStore: "etcd-a" },
      nodeGroups: {
        g: {
          replicas: 1,
          minReplicas: 0,
          maxReplicas: 3,
          resources: { cpu: 8, memory: "6152Mi" },
          sockets: 2,
          ephemeralStorage: "50Gi",
          roles: ["ingress-nginx"],
          labels: { "node-role.kubernetes.io/db": "yes", "node-role.kubernetes.io/A.B": "", "example.com/a": "b" },
          tags: ["x"],
          allowedNodes: ["pve1"],
        },
      },
      network: { addressRanges: [{ start: "10.0.0.150", end: "10.0.0.160" }] },
      clusterNetwork: { podCidr: "10.243.0.0/16", serviceCidr: "10.95.0.0/16" },
      sshAuthorizedKeys: ["ssh-ed25519 AAAA k"],
    });
  });

  it("leaves out what the chart's defaults already say", () => {
    const plain = defaultTenant("p", "v1.32.6");
    const spec = tenantValues({ ...config, tenants: [plain] }, plain);
    expect(Object.keys(spec).sort()).toEqual(["clusterNetwork", "controlPlane", "nodeGroups", "version"]);
    expect(spec.controlPlane).toEqual({ replicas: 2, serviceType: "LoadBalancer", dataStore: "tenant-root" });
  });

  it("under profile cozystack-v1.6 writes v1.6's names: diskSize, vMAJOR.MINOR when the chart maps it to the tenant's release, no replicas or sockets at their defaults", () => {
    const v16: PlatformConfig = { ...config, profile: "cozystack-v1.6" };
    const plain = { ...defaultTenant("p", "v1.33.13"), nodeGroups: [{ ...defaultNodeGroup("md0"), replicas: 2, minReplicas: 2, maxReplicas: 5, diskGiB: 30 }] };
    const spec = tenantValues({ ...v16, tenants: [plain] }, plain);
    expect(spec.version).toBe("v1.33");
    expect(spec.nodeGroups).toEqual({ md0: { minReplicas: 2, maxReplicas: 5, resources: { cpu: 2, memory: "4Gi" }, diskSize: "30Gi" } });
    // a release other than the chart's patch stays whole; replicas and sockets apart from the defaults stay
    const pinned = { ...plain, version: "v1.33.4", nodeGroups: [{ ...plain.nodeGroups[0]!, replicas: 3, sockets: 2, cores: 2 }] };
    const spec2 = tenantValues({ ...v16, tenants: [pinned] }, pinned);
    expect(spec2.version).toBe("v1.33.4");
    expect(spec2.nodeGroups).toEqual({ md0: { replicas: 3, minReplicas: 2, maxReplicas: 5, resources: { cpu: 4, memory: "4Gi" }, sockets: 2, diskSize: "30Gi" } });
    expect(v16Version("v1.35.6")).toBe("v1.35");
    expect(v16Version("v1.35.5")).toBe("v1.35.5");
  });

  it("memoryQuantity writes Gi when it can", () => {
    expect([4096, 6152, 1024, 8].map(memoryQuantity)).toEqual(["4Gi", "6152Mi", "1Gi", "8Mi"]);
  });
});

describe("valuesSchema with a plain JSON Schema validator (the definition's openAPISchema)", () => {
  const config = defaultConfig();
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(valuesSchema(config));

  it("accepts the chart's defaults and every tenant's spec over them", () => {
    const defaults = defaultValues(config);
    expect(validate(defaults), JSON.stringify(validate.errors)).toBe(true);
    for (const t of config.tenants) {
      const spec = tenantValues(config, t);
      expect(validate({ ...defaults, ...spec, controlPlane: { ...(defaults.controlPlane as object), ...(spec.controlPlane as object) } }), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it("rejects bad values with the field's path", () => {
    const defaults = defaultValues(config);
    const bad = { ...defaults, nodeGroups: { md0: { instanceType: "u1.medium", minReplicas: -1 } }, version: "v1.40.0" };
    expect(validate(bad)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    expect(paths).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\/nodeGroups\/md0\/instanceType must NOT be valid/), expect.stringMatching(/^\/nodeGroups\/md0\/minReplicas /), expect.stringMatching(/^\/version /)]),
    );
  });

  it("offers the Kubernetes minors of both profiles: full releases for v0.37's objects, v1.6's vMAJOR.MINOR exactly as the chart maps them", () => {
    const pattern = new RegExp((chartValuesSchema().properties as Record<string, { pattern: string }>).version!.pattern);
    const v037 = getProfile("cozystack-v0.37").kubernetes;
    const v16 = getProfile("cozystack-v1.6").kubernetes;
    for (let minor = v037.minMinor - 1; minor <= v16.maxMinor + 1; minor++) {
      const offered = minor >= v037.minMinor && minor <= v16.maxMinor;
      expect(pattern.test(`v1.${minor}.0`), `v1.${minor}.0`).toBe(offered);
      expect(pattern.test(`v1.${minor}`), `v1.${minor}`).toBe(minor >= v16.minMinor && minor <= v16.maxMinor);
    }
    // the chart's table of patches covers exactly v1.6's minors
    expect(Object.keys(chartPatchReleases()).sort()).toEqual(Array.from({ length: v16.maxMinor - v16.minMinor + 1 }, (_, i) => `v1.${v16.minMinor + i}`).sort());
    expect(pattern.test("1.32")).toBe(false);
    expect(pattern.test("v1.32.06")).toBe(false);
  });
});
