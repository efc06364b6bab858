/**
 * The kubelet stand-in's reading of what capmox and CAPI's kubeadm bootstrap write: the
 * user-data as cloud-init renders it, the JoinConfiguration as kubeadm reads it, the flags
 * as the kubelet receives them, the Node it registers, the CA pin as kubeadm computes it.
 */
import { describe, expect, it } from "vitest";
import { createEnvPki } from "../../../kube/env/index.js";
import { jinjaVariables, joinOf, networkAddresses, parseJoinConfig, registration, renderJinja, spkiPin, unquoteWord, type NoCloudSeed } from "../../../mgmt/kubelet/index.js";
import { X509Certificate } from "node:crypto";

const uuid = "1f68e6e5-a3ae-445b-a03c-43e516b58655";
// The shape CAPI v1.10's kubeadm bootstrap writes for a worker (bootstrap/kubeadm/internal/cloudinit/node.go).
const userData = `## template: jinja
#cloud-config

write_files:
-   path: /run/kubeadm/kubeadm-join-config.yaml
    owner: root:root
    permissions: '0640'
    content: |
      ---
      apiVersion: kubeadm.k8s.io/v1beta4
      discovery:
        bootstrapToken:
          apiServerEndpoint: 127.0.0.1:44519
          caCertHashes:
          - sha256:0123
          token: 05l8fk.0123456789abcdef
      kind: JoinConfiguration
      nodeRegistration:
        kubeletExtraArgs:
        - name: cloud-provider
          value: external
        - name: provider-id
          value: proxmox://'{{ ds.meta_data.instance_id }}'
        name: '{{ local_hostname }}'
-   path: /run/cluster-api/placeholder
    owner: root:root
    permissions: '0640'
    content: "This placeholder file is used to create the /run/cluster-api sub directory"
runcmd:
  - kubeadm join --config /run/kubeadm/kubeadm-join-config.yaml  && echo success > /run/cluster-api/bootstrap-success.complete
`;
// capmox v0.7.0's meta-data and network-config (pkg/cloudinit).
const seed: NoCloudSeed = {
  userData,
  metaData: { "instance-id": uuid, "local-hostname": "demo-workers-x2s8n-8flq7", hostname: "demo-workers-x2s8n-8flq7", "kubernetes-version": "v1.32.6" },
  networkConfig: { network: { version: 2, ethernets: { eth0: { match: { macaddress: "bc:24:11:00:00:01" }, addresses: ["10.0.0.100/24"] } } } },
};

describe("cloud-init as the kubelet stand-in reads it", () => {
  it("renders jinja with meta-data as cloud-init does, unknown names as CI_MISSING_JINJA_VAR", () => {
    const vars = jinjaVariables(seed.metaData);
    expect(renderJinja("proxmox://'{{ ds.meta_data.instance_id }}' {{ local_hostname }} {{ v1.local_hostname }}", vars)).toBe(`proxmox://'${uuid}' demo-workers-x2s8n-8flq7 demo-workers-x2s8n-8flq7`);
    expect(renderJinja("{{ ds.meta_data.instanceid }}", vars)).toBe("CI_MISSING_JINJA_VAR/ds.meta_data.instanceid");
    expect(() => renderJinja("{% if x %}", vars)).toThrow(/jinja statements/);
  });

  it("finds the join configuration that runcmd's kubeadm join reads, and the node's address", () => {
    const join = joinOf(seed)!;
    expect(join).toMatchObject({ apiServerEndpoint: "127.0.0.1:44519", token: "05l8fk.0123456789abcdef", caCertHashes: ["sha256:0123"], nodeName: "demo-workers-x2s8n-8flq7" });
    expect(networkAddresses(seed.networkConfig)).toEqual(["10.0.0.100"]);
    expect(joinOf({ ...seed, userData: "#cloud-config\nhostname: x\n" })).toBeUndefined();
  });

  it("hands the kubelet its flags as systemd does: quotes removed", () => {
    expect(unquoteWord(`proxmox://'${uuid}'`)).toBe(`proxmox://${uuid}`);
    expect(unquoteWord(`"a b"c`)).toBe("a bc");
    const v1beta3 = parseJoinConfig("apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken: {apiServerEndpoint: 'h:6443', token: a.b}\nnodeRegistration:\n  kubeletExtraArgs: {provider-id: \"proxmox://'x'\"}\n");
    expect(v1beta3.kubeletArgs.get("provider-id")).toBe("proxmox://x");
    expect(() => parseJoinConfig("kind: InitConfiguration\n")).toThrow(/not a JoinConfiguration/);
  });

  it("registers the Node a kubelet would: name, providerID, kubelet version, address, the cloud provider's taint", () => {
    const reg = registration({ vmid: 100, cpus: 2, memoryMiB: 4096, seed }, joinOf(seed)!);
    expect(reg).toEqual({
      name: "demo-workers-x2s8n-8flq7",
      providerID: `proxmox://${uuid}`,
      kubeletVersion: "v1.32.6",
      addresses: ["10.0.0.100"],
      labels: { "kubernetes.io/hostname": "demo-workers-x2s8n-8flq7", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" },
      taints: [{ key: "node.cloudprovider.kubernetes.io/uninitialized", value: "true", effect: "NoSchedule" }],
    });
  });

  it("a provider-id template with a wrong variable gives a providerID capmox's never matches", () => {
    const wrong = { ...seed, userData: userData.replace("ds.meta_data.instance_id", "ds.meta_data.instanceid") };
    expect(registration({ vmid: 100, cpus: 2, memoryMiB: 4096, seed: wrong }, joinOf(wrong)!).providerID).toBe("proxmox://CI_MISSING_JINJA_VAR/ds.meta_data.instanceid");
  });
});

describe("kubeadm's CA pin", () => {
  it("is sha256 over the CA's SubjectPublicKeyInfo, and tells CAs apart", async () => {
    const [a, b] = [await createEnvPki(), await createEnvPki()];
    const der = (pem: string) => new X509Certificate(pem).raw;
    expect(spkiPin(der(a.servingCa.certPem))).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(spkiPin(der(a.servingCa.certPem))).toBe(spkiPin(der(a.servingCa.certPem)));
    expect(spkiPin(der(a.servingCa.certPem))).not.toBe(spkiPin(der(b.servingCa.certPem)));
  });
});
