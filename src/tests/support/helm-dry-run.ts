/**
 * `helm template --dry-run=server` against a test file's kube-apiserver: the chart's `lookup`s
 * and `.Capabilities` read that cluster. Rejects with helm's own message on a failure.
 */
import { execa } from "execa";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../kube/index.js";
import type { KubeEnv } from "../../kube/env/index.js";
import { helmPath } from "../../tools/helm.js";

/** The objects `helm template <release> <chart> --namespace cozy-system <args>` renders. */
export async function helmDryRun(env: KubeEnv, release: string, chart: string, args: readonly string[] = []): Promise<KubeObject[]> {
  const { stdout } = await execa(helmPath(), ["template", release, chart, "--namespace", "cozy-system", ...args, "--dry-run=server", "--kubeconfig", env.kubeconfigPath]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === "object");
}
