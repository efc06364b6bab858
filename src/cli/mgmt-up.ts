/**
 * `npm run mgmt:up -- --kubeconfig <file> [--config platform.yaml] [--lab-port 8006]`: the
 * management environment for a person (src/mgmt/env.ts) until Ctrl-C or SIGTERM. The
 * kubeconfig file is written only once everything is ready (scripts wait for it) and removed
 * at the end, with every process, port and temp folder.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type PlatformConfig } from "../config/index.js";
import { getProfile } from "../versions/index.js";
import { ensureMgmtBinaries, kamajiStandInName, startMgmtEnv, type MgmtBinaries, type MgmtEnv } from "../mgmt/index.js";
import { killOnSignalWhileStarting, untilSignalOrExit } from "./until-signal.js";

const usage = "usage: npm run mgmt:up -- --kubeconfig <file> [--config platform.yaml] [--lab-port <port>]";

export async function mgmtUpMain(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kubeconfig: { type: "string" },
      config: { type: "string" },
      "lab-port": { type: "string" },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help || !values.kubeconfig) {
    (values.help ? console.log : console.error)(usage);
    return values.help ? 0 : 2;
  }
  const labPort = values["lab-port"] === undefined ? 0 : Number(values["lab-port"]);
  if (!Number.isInteger(labPort) || labPort < 0 || labPort > 65535) {
    console.error(`mgmt:up: --lab-port ${JSON.stringify(values["lab-port"])}: expected a TCP port 0..65535`);
    return 2;
  }
  let config;
  try {
    config = await loadConfig(values.config === undefined ? {} : { file: values.config });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`mgmt:up: ${error.message}`);
    return 1;
  }
  const kubeconfigPath = resolve(values.kubeconfig);
  const log = (line: string): void => console.log(line);
  const binaries = await ensureMgmtBinaries({ log });
  const starting = killOnSignalWhileStarting();
  const env = await startMgmtEnv({
    kubeBinaries: binaries.kube,
    controllerBinaries: binaries.controllers,
    fluxBinaries: binaries.flux,
    platform: config,
    kubeconfigPath,
    tenantsOf: config,
    labPort,
    log,
  });
  starting();
  // The lab's own throwaway credentials: printing them is the point (as `npm run lab` does).
  log(readyBanner(env, config, binaries, kubeconfigPath));
  const outcome = await untilSignalOrExit(env.exited);
  await env.stop();
  if ("signal" in outcome) {
    log(`${outcome.signal}: stopped the environment, removed its folders and ${kubeconfigPath}`);
    return 0;
  }
  console.error(`mgmt:up: ${outcome.name} exited unexpectedly (code ${outcome.code}); environment stopped`);
  return 1;
}

/** What runs where, the variables to export, and what to try. */
function readyBanner(env: MgmtEnv, config: PlatformConfig, binaries: MgmtBinaries, kubeconfigPath: string): string {
  const lab = env.labCredentials;
  const v16 = getProfile(config.profile).cozystack.bundleFormat === "v1-package";
  const lines = [
    "",
    "Management environment ready (loopback only):",
    `  kube-apiserver ${env.kube.version}  ${env.kube.server}`,
    ...env.controllers.map((c) => `  ${c.name.padEnd(24)} ${c.version.padEnd(9)} log ${c.logFile}`),
    `  ${kamajiStandInName.padEnd(24)} (a stand-in: Kamaji needs a container runtime) tenant control planes on 127.0.0.1`,
    `  cozystack-api-stand-in    (a stand-in: its module is not served) for \`kubectl apply -f dist/apps/<tenant>.yaml\`; the app chart from the Helm repository at ${env.flux?.repository.url ?? "(none)"}`,
    v16
      ? `  profile ${config.profile}: Kubernetes served from our v1.6 ApplicationDefinition (v1.6 value names; the chart from the HelmRepository, not an ExternalArtifact: cozystack-operator does not run here); Talos node groups are proven by helm render and strict validation only, not run through controllers here (the Talos bootstrap provider is not served as a Go module): kubeadm groups are`
      : `  profile ${config.profile}: Kubernetes served from our CozystackResourceDefinition`,
    `  lab (Proxmox VE emulator) ${lab.url}`,
    `capmox v${binaries.controllers.capmox.version.replace(/^v/, "")} stands in for v0.7.7 (the module proxy does not serve v0.7.5-v0.7.7).`,
    `Tenants prepared (namespace + credentials Secret): ${config.tenants.map((t) => `${t.namespace}/${t.name}`).join(", ") || "none"}`,
    "",
    `export KUBECONFIG=${kubeconfigPath}`,
    `export PROXMOX_URL=${lab.url}`,
    `export PROXMOX_TOKEN='${lab.tokenId}'`,
    `export PROXMOX_SECRET='${lab.secret}'`,
    `export PROXMOX_FINGERPRINT='${lab.fingerprint}'`,
    "",
    "Try it:",
    "  npm run synth && kubectl apply -f dist/apps/demo.yaml   (the Kubernetes resource, through helm-controller; or dist/tenants/demo.yaml, the same cluster as plain Cluster API objects)",
    "  kubectl -n tenant-demo get cluster,machinedeployment,machine,proxmoxmachine -w   (this terminal logs each VM clone, start and destroy)",
    "  kubectl -n tenant-demo delete kubernetes demo",
    "  npm run test:stage all",
    "",
    "Ctrl-C stops everything and removes the kubeconfig.",
  ];
  return lines.join("\n");
}
