/**
 * The kubelet stand-in against a real kube-apiserver with bootstrap-token authentication:
 * a CA pin that does not match, or a token the server does not know, means the VM never
 * joins, and the reason says which.
 */
import { X509Certificate } from "node:crypto";
import { expect, test } from "vitest";
import type { JoinConfig } from "../../../mgmt/kubelet/index.js";
import { runKubelet } from "../../../mgmt/kubelet/kubelet.js";
import { spkiPin } from "../../../mgmt/kubelet/index.js";
import { describeKube, useKubeEnv } from "../../support/kube-env.js";

const seed = {
  userData: "",
  metaData: { "instance-id": "0f0e0d0c-0000-4000-8000-000000000001", "local-hostname": "vm-a", "kubernetes-version": "v1.32.6" },
};

describeKube("kubelet stand-in: joins that must fail", () => {
  const env = useKubeEnv({ crdsForProfile: undefined, extraApiserverArgs: ["--enable-bootstrap-token-auth"] });

  function join(over: Partial<JoinConfig>): JoinConfig {
    const server = new URL(env().server);
    return {
      apiServerEndpoint: `${server.hostname}:${server.port}`,
      token: "abcdef.0123456789abcdef",
      caCertHashes: [spkiPin(new X509Certificate(env().servingCa.certPem).raw)],
      unsafeSkipCAVerification: false,
      kubeletArgs: new Map([["provider-id", "proxmox://{{ ds.meta_data.instance_id }}"]]),
      ...over,
    };
  }

  const run = (config: JoinConfig): Promise<void> => runKubelet({ vmid: 100, cpus: 2, memoryMiB: 2048, seed }, config, new AbortController().signal, () => {});

  test("a CA pin that matches nothing in the server's chain: refused before any credential is sent", async () => {
    await expect(run(join({ caCertHashes: [`sha256:${"0".repeat(64)}`] }))).rejects.toThrow(/presents no CA matching caCertHashes sha256:0{64}: refusing to join/);
  });

  test("a bootstrap token the server does not know: the CSR is refused", async () => {
    await expect(run(join({}))).rejects.toThrow(/the bootstrap token was refused \(HTTP 401\)/);
  });
});
