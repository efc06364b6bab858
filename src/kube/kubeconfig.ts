/**
 * Kubeconfig files: loading one (the user's, or the harness's admin kubeconfig) into a
 * client, and writing the admin kubeconfig of a test environment with mode 0600.
 */
import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { KubeClient, type WarningHandler } from "./client.js";
import { writeFileAtomicSync } from "../files/index.js";

/** Loads a kubeconfig file; the error names the file, never its content. */
export function loadKubeconfig(path: string): KubeConfig {
  if (!existsSync(path)) throw new Error(`kubeconfig: file ${path} does not exist`);
  const config = new KubeConfig();
  try {
    config.loadFromFile(path);
  } catch (error) {
    throw new Error(`kubeconfig: cannot load ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!config.getCurrentCluster()) throw new Error(`kubeconfig: ${path} has no current context with a cluster`);
  return config;
}

/** A client for the current context of a kubeconfig file. */
export function clientFromKubeconfig(path: string, onWarning?: WarningHandler): KubeClient {
  return new KubeClient(loadKubeconfig(path), onWarning);
}

/** What an admin kubeconfig with a client certificate holds. */
export interface AdminKubeconfig {
  readonly server: string;
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Name of the cluster, user and context. @default "cozy-proxmox-test" */
  readonly name?: string;
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** The kubeconfig YAML text. */
export function adminKubeconfigYaml(k: AdminKubeconfig): string {
  const name = k.name ?? "cozy-proxmox-test";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server: k.server, "certificate-authority-data": b64(k.caPem) } }],
    users: [{ name: `${name}-admin`, user: { "client-certificate-data": b64(k.clientCertPem), "client-key-data": b64(k.clientKeyPem) } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin` } }],
    "current-context": name,
    preferences: {},
  });
}

/** Writes a kubeconfig (mode 0600, whole file or nothing). */
export function writeKubeconfig(path: string, yamlText: string): void {
  writeFileAtomicSync(path, yamlText, { mode: 0o600 });
}
