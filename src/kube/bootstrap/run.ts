/**
 * `npm run bootstrap`: prepares a management cluster for CozyStack with the paas-proxmox
 * bundle, or for profile cozystack-v1.6 applies our packages (packages.ts). Stages, each a function with its input: preflight → desired objects → plan
 * (dry run) or apply (idempotent, server-side apply) → optionally the installer manifest →
 * wait for the system HelmReleases. Secrets never reach `log`: every line passes `redact`.
 */
import type { PlatformConfig } from "../../config/index.js";
import { platformInstall, platformNamespace, type PlatformInstall } from "../../bundles/index.js";
import { cozystackConfigMapData } from "../../cozystack/index.js";
import { refOf, type KubeClient } from "../client.js";
import { WaitTimeoutError } from "../errors.js";
import type { KubeObject, ObjectRef } from "../object.js";
import { describeRef } from "../object.js";
import { conditionIs, describeCondition, waitFor } from "../wait.js";
import { applyAll, planApply, type Change } from "./apply.js";
import { allTokenSecrets, credentialObjects, type ProxmoxCredentials } from "./credentials.js";
import { applyOrder, type InstallerManifest } from "./installer.js";
import { ourPackageRefs, packagesBootstrapObjects } from "./packages.js";
import { packageSet, type PackageSet } from "../../packages/index.js";
import { runPreflight, type PreflightResult, type ProxmoxPreflight } from "./preflight.js";

export const bootstrapFieldManager = "cozy-proxmox-bootstrap";
/** The installer's objects get their own manager: where they overlap ours (Namespace cozy-system), both keep their fields. */
export const installerFieldManager = "cozy-proxmox-bootstrap-installer";

export interface BootstrapInput {
  readonly client: KubeClient;
  readonly config: PlatformConfig;
  /** Text of the paas-proxmox bundle for this config (what `renderBundle(config)` gives). */
  readonly bundle: () => string;
  /** Token secret (and CA) for the credentials Secrets. */
  readonly credentials: Omit<ProxmoxCredentials, "config">;
  /** CozyStack's installer manifest, applied after the bootstrap objects. */
  readonly installer?: InstallerManifest;
  /** Print the plan, change nothing. @default false */
  readonly dryRun?: boolean;
  /** Wait this long for the system HelmReleases to be Ready; 0 or undefined: do not wait. */
  readonly waitTimeoutMs?: number;
  /** Stage 1 against Proxmox; undefined = skipped. */
  readonly proxmoxPreflight?: ProxmoxPreflight;
  /** Progress lines (already redacted). */
  readonly log: (line: string) => void;
}

export interface BootstrapResult {
  readonly preflight: readonly PreflightResult[];
  /** The dry run's plan, or what the real run did, object by object, in order. */
  readonly changes: readonly Change[];
  /** HelmReleases waited for (empty when not waiting). */
  readonly releases: readonly ObjectRef[];
}

/** Bootstrap stopped: `failed` names what (checks, objects or HelmReleases). */
export class BootstrapError extends Error {
  override readonly name = "BootstrapError";

  constructor(
    message: string,
    readonly failed: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Replaces every occurrence of the secrets (and their base64 forms) with `[redacted]`. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const needles = secrets
    .filter((s) => s.length >= 4)
    .flatMap((s) => [s, Buffer.from(s, "utf8").toString("base64")])
    .sort((a, b) => b.length - a.length);
  return (text) => needles.reduce((out, needle) => out.split(needle).join("[redacted]"), text);
}

/** What the platform chart will install for this config (from the bundle's release model): the source of namespaces and HelmReleases. */
function platformObjects(config: PlatformConfig, bundleText: string): PlatformInstall {
  const c = config.cozystack;
  // The ConfigMap bootstrap writes leaves oidc-enabled unset: the keycloak releases stay out.
  return platformInstall(bundleText, { enable: c.bundleEnable, disable: c.bundleDisable, oidcEnabled: false });
}

/** The objects bootstrap owns, in apply order: namespaces, the cozystack ConfigMap, credentials. */
export function bootstrapObjects(config: PlatformConfig, bundleText: string, credentials: BootstrapInput["credentials"]): KubeObject[] {
  const platform = platformObjects(config, bundleText);
  const secrets = credentialObjects({ ...credentials, config }, platform.installed);
  const wanted = new Set(["cozy-system", ...secrets.map((s) => s.metadata.namespace ?? "")]);
  // The same Namespace objects the platform chart renders (labels, privileged), so the
  // installer later finds them as it would have made them.
  const namespaces: KubeObject[] = [...wanted].sort().map((name) => {
    const privileged = platform.namespaces.get(name);
    if (privileged !== undefined) return platformNamespace(name, privileged);
    return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "app.kubernetes.io/managed-by": bootstrapFieldManager } } };
  });
  const configMap: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cozystack", namespace: "cozy-system" },
    data: cozystackConfigMapData(config),
  };
  return [...namespaces, configMap, ...secrets];
}

/** The system HelmReleases the platform chart creates (`cozystack.io/system-app: "true"`): one per installed release. */
export function systemHelmReleases(config: PlatformConfig, bundleText: string): ObjectRef[] {
  return platformObjects(config, bundleText).installed.map((r) => ({ apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", name: r.name, namespace: r.namespace }));
}

function describeChange(change: Change, dryRun: boolean, secretRefs: ReadonlySet<string>): string {
  const verb = dryRun ? { create: "would create", update: "would update", unchanged: "unchanged" } : { create: "created", update: "updated", unchanged: "unchanged" };
  const what = describeRef(change.ref);
  return `  ${verb[change.action].padEnd(12)} ${what}${secretRefs.has(what) ? " (values hidden)" : ""}`;
}

/** Profile cozystack-v1.6 installs through CozyStack's operator: Packages, not the bundle (src/kube/bootstrap/packages.ts). */
const usesPackages = (config: PlatformConfig): boolean => config.profile === "cozystack-v1.6";

export async function bootstrap(input: BootstrapInput): Promise<BootstrapResult> {
  const redact = redactor(allTokenSecrets(input.credentials));
  const log = (line: string): void => input.log(redact(line));
  const { preflight, bundleText, packages } = await preflightStage(input, redact, log);
  const changes = await applyStage(input, packages ? packagesBootstrapObjects(input.config, packages, input.credentials) : bootstrapObjects(input.config, bundleText, input.credentials), redact, log);
  const releases = !input.waitTimeoutMs ? [] : packages ? ourPackageRefs(packages) : systemHelmReleases(input.config, bundleText);
  const what = packages ? "Packages" : "system HelmReleases";
  if (releases.length > 0) {
    const timeoutMs = input.waitTimeoutMs ?? 0;
    if (input.dryRun) log(`would wait up to ${Math.round(timeoutMs / 1000)} s for ${releases.length} ${what} to be Ready`);
    else await waitForReleases(input.client, releases, timeoutMs, log, what);
  }
  return { preflight, changes, releases };
}

type Redact = (text: string) => string;
type Log = (line: string) => void;

/** Stage 1: every preflight check; throws BootstrapError naming the failed ones. */
async function preflightStage(input: BootstrapInput, redact: Redact, log: Log): Promise<{ preflight: PreflightResult[]; bundleText: string; packages?: PackageSet }> {
  let bundleText = "";
  let packages: PackageSet | undefined;
  log("preflight:");
  const preflight = await runPreflight({
    client: input.client,
    config: input.config,
    proxmoxPreflight: input.proxmoxPreflight,
    checkConfig: () => {
      if (usesPackages(input.config)) {
        packages = packageSet(input.config);
        return `valid; the CozyStack v1.6 package set passes its graph checks (${packages.platform.packages.length} platform packages, ${packages.packages.length} of ours)`;
      }
      bundleText = input.bundle();
      platformObjects(input.config, bundleText);
    },
  });
  for (const r of preflight) log(`  ${r.status.padEnd(7)} ${r.name}: ${r.detail}`);
  const failed = preflight.filter((r) => r.status === "failed");
  if (failed.length > 0) {
    throw new BootstrapError(
      redact(`preflight failed: ${failed.map((r) => `${r.name} (${r.detail})`).join("; ")}`),
      failed.map((r) => r.name),
    );
  }
  return { preflight, bundleText, ...(packages ? { packages } : {}) };
}

/** Stage 2: bootstrap's objects, then the installer's, planned (dry run) or applied. */
async function applyStage(input: BootstrapInput, own: readonly KubeObject[], redact: Redact, log: Log): Promise<Change[]> {
  const dryRun = input.dryRun ?? false;
  const installerObjects = input.installer ? applyOrder(input.installer.objects) : [];
  const items = [
    ...own.map((object) => ({ object, fieldManager: bootstrapFieldManager })),
    ...installerObjects.map((object) => ({ object, fieldManager: installerFieldManager })),
  ];
  const secretRefs = new Set(items.filter((i) => i.object.kind === "Secret").map((i) => describeRef(refOf(i.object))));
  const from = input.installer ? `${installerObjects.length} from ${input.installer.source}` : "";
  log(
    dryRun
      ? `plan (dry run: nothing is changed; ${own.length} bootstrap objects${from ? `, ${from}` : ""}):`
      : `applying ${own.length} bootstrap objects${from ? ` and ${from}` : ""} (server-side apply):`,
  );
  const options = { onChange: (c: Change) => log(describeChange(c, dryRun, secretRefs)) };
  let changes: Change[];
  try {
    changes = dryRun ? await planApply(input.client, items, options) : await applyAll(input.client, items, options);
  } catch (error) {
    throw new BootstrapError(redact(`${dryRun ? "planning" : "applying"} failed: ${(error as Error).message}`), [], { cause: error });
  }
  const count = (action: Change["action"]): number => changes.filter((c) => c.action === action).length;
  log(`  ${dryRun ? "would create" : "created"} ${count("create")}, ${dryRun ? "would update" : "updated"} ${count("update")}, unchanged ${count("unchanged")}`);
  return changes;
}

/** Waits for every HelmRelease to be Ready, logging each one that becomes Ready or changes state. */
export async function waitForReleases(
  client: KubeClient,
  releases: readonly ObjectRef[],
  timeoutMs: number,
  log: (line: string) => void,
  what = "system HelmReleases",
): Promise<void> {
  log(`waiting up to ${Math.round(timeoutMs / 1000)} s for ${releases.length} ${what} to be Ready:`);
  const ready = new Set<string>();
  const lastState = new Map<string, string>();
  try {
    await waitFor(client, releases, conditionIs("Ready"), {
      timeoutMs,
      describe: (o) => describeCondition(o, "Ready"),
      onProgress: (ref, object, done) => {
        const name = describeRef(ref);
        if (done) ready.add(name);
        else ready.delete(name);
        // One line per change of state, not per status write (Flux rewrites status often).
        const state = describeCondition(object, "Ready");
        if (lastState.get(name) === state || (!object && !lastState.has(name))) return;
        lastState.set(name, state);
        log(`  [${ready.size}/${releases.length}] ${name}: ${state}`);
      },
    });
  } catch (error) {
    if (error instanceof WaitTimeoutError) {
      throw new BootstrapError(
        `${error.pending.length} of ${releases.length} ${what} not Ready after ${Math.round(timeoutMs / 1000)} s: ${error.pending.join(", ")}`,
        error.pending,
        { cause: error },
      );
    }
    throw error;
  }
  log(`all ${releases.length} ${what} are Ready`);
}
