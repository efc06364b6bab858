/**
 * The management environment's components: the release's CRDs and webhook configurations
 * pointed at loopback by URL with the environment's CA, capmox's CRDs with their contract
 * label, IPAM's without a conversion webhook, the managers' args as the release gives them.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pinnedVersion, type GoBinarySpec } from "../../../kube/env/index.js";
import type { KubeObject } from "../../../kube/index.js";
import { capmoxSpec, ipamSpec, managementComponents, releaseManagerArgs } from "../../../mgmt/index.js";
import { referencePath, repoRoot } from "../../../paths.js";
import { getProfile } from "../../../versions/index.js";

const caPem = "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n";
const caBundle = Buffer.from(caPem).toString("base64");

/**
 * The capmox and IPAM CRDs come from the module cache, at the versions the environment builds
 * (tools/<name>/go.mod): fetched there as `go build` would, so a new pin is tested at once.
 */
function download(spec: GoBinarySpec): void {
  execFileSync("go", ["mod", "download", `${spec.module}@${pinnedVersion(spec)}`], { cwd: join(repoRoot, spec.moduleDir), stdio: "ignore" });
}

const goAvailable = spawnSync("go", ["version"]).status === 0;
if (goAvailable) [capmoxSpec, ipamSpec].forEach(download);
else console.warn("!! management components test skipped: no Go toolchain to fetch the controllers' modules (install Go >= 1.26)");
const releasePresent = existsSync(referencePath("cozystack-v0.37.10", "release"));

describe("the capmox the environment builds", () => {
  it("is of the profile's release line (a stand-in version only where the proxy lacks the pinned one)", () => {
    const line = (v: string) => v.split(".").slice(0, 2).join(".");
    expect(line(pinnedVersion(capmoxSpec))).toBe(line(getProfile("cozystack-v0.37").capmox.version));
    expect(pinnedVersion(capmoxSpec).startsWith(capmoxSpec.line)).toBe(true);
  });
});

type Webhook = { clientConfig: { url?: string; service?: unknown; caBundle?: string } };

describe.skipIf(!goAvailable || !releasePresent)("management components", () => {
  const objects = managementComponents({ corePort: 1111, kubeadmPort: 2222, caPem });
  const byName = (name: string): KubeObject => objects.find((o) => o.metadata.name === name)!;

  it("installs every CRD before any webhook configuration", () => {
    const kinds = objects.map((o) => o.kind);
    expect(kinds.lastIndexOf("CustomResourceDefinition")).toBeLessThan(kinds.indexOf("MutatingWebhookConfiguration"));
    expect(kinds.filter((k) => k === "CustomResourceDefinition")).toHaveLength(13 + 2 + 2 + 4 + 2);
  });

  it("points every webhook at its controller on 127.0.0.1 with the environment's CA, never at a Service", () => {
    const configs = objects.filter((o) => o.kind.endsWith("WebhookConfiguration"));
    expect(configs.map((c) => c.metadata.name).sort()).toEqual([
      "capi-kubeadm-bootstrap-mutating-webhook-configuration",
      "capi-kubeadm-bootstrap-validating-webhook-configuration",
      "capi-mutating-webhook-configuration",
      "capi-validating-webhook-configuration",
    ]);
    for (const config of configs) {
      const port = config.metadata.name.includes("kubeadm") ? 2222 : 1111;
      for (const webhook of config["webhooks"] as Webhook[]) {
        expect(webhook.clientConfig.service).toBeUndefined();
        expect(webhook.clientConfig.url).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:${port}/(mutate|validate)-`));
        expect(webhook.clientConfig.caBundle).toBe(caBundle);
      }
      expect(Object.keys(config.metadata.annotations ?? {}).filter((k) => k.startsWith("cert-manager.io/"))).toEqual([]);
    }
    // The defaulting webhook that gives a MachineDeployment its strategy is among them.
    const mutating = byName("capi-mutating-webhook-configuration")["webhooks"] as Array<Webhook & { name: string }>;
    expect(mutating.map((w) => w.name)).toContain("default.machinedeployment.cluster.x-k8s.io");
  });

  it("sends conversion reviews of CAPI's CRDs to the core manager, and serves IPAM's v1alpha2 without conversion", () => {
    const conversion = (name: string) => (byName(name)["spec"] as { conversion?: { strategy: string; webhook?: Webhook } }).conversion;
    expect(conversion("machines.cluster.x-k8s.io")?.webhook?.clientConfig.url).toBe("https://127.0.0.1:1111/convert");
    expect(conversion("kubeadmconfigs.bootstrap.cluster.x-k8s.io")?.webhook?.clientConfig.url).toBe("https://127.0.0.1:2222/convert");
    // The bases carry no conversion stanza (kustomize would add the webhook); absent means None.
    expect(conversion("inclusterippools.ipam.cluster.x-k8s.io")?.strategy ?? "None").toBe("None");
  });

  it("labels the provider CRDs with the contract Cluster API requires", () => {
    for (const name of ["proxmoxclusters", "proxmoxmachines", "proxmoxmachinetemplates"]) {
      expect(byName(`${name}.infrastructure.cluster.x-k8s.io`).metadata.labels?.["cluster.x-k8s.io/v1beta1"]).toBe("v1alpha1");
    }
    expect(byName("kamajicontrolplanes.controlplane.cluster.x-k8s.io").metadata.labels?.["cluster.x-k8s.io/v1beta1"]).toBe("v1alpha1");
    expect(byName("kubeadmconfigs.bootstrap.cluster.x-k8s.io").metadata.labels?.["cluster.x-k8s.io/v1beta1"]).toBe("v1beta1");
  });
});

describe.skipIf(!releasePresent)("the managers' args from CozyStack's components", () => {
  it("resolves clusterctl's ${VAR:=default} to the default", () => {
    const core = releaseManagerArgs("core");
    expect(core).toContain("--leader-elect");
    expect(core.find((a) => a.startsWith("--feature-gates="))).toMatch(/MachinePool=true,ClusterResourceSet=true,.*MachineSetPreflightChecks=true/);
    expect(releaseManagerArgs("bootstrap")).toContain("--bootstrap-token-ttl=15m");
    expect([...core, ...releaseManagerArgs("bootstrap")].join(" ")).not.toContain("${");
  });
});
