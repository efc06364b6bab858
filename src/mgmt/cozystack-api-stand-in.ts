/**
 * cozystack-api stand-in. The real cozystack-api is an aggregated API server that serves
 * each CozystackResourceDefinition's kind (here `apps.cozystack.io/v1alpha1 Kubernetes`)
 * and stores it as a Flux HelmRelease; it cannot run here (its module is not served and it
 * expects a whole CozyStack install). This stand-in plays only that part:
 *
 * - it serves the kind as a CRD whose schema is the definition's `openAPISchema` (the app
 *   chart's values schema) made structural (crd-schema.ts), so the real API server
 *   validates what users apply and names the field it refuses;
 * - for every such object `<name>` in namespace X it applies the HelmRelease cozystack-api
 *   makes (`convertApplicationToHelmRelease`): `<prefix><name>` in X, the definition's
 *   chart and HelmRepository, version `>= 0.0.0-0`, reconcileStrategy Revision, interval
 *   5m, install/upgrade remediation retries -1, `values = spec`, the definition's release
 *   labels and the application labels. The HelmRelease is owned by the object, so deleting
 *   it deletes the HelmRelease (the real kube-controller-manager's garbage collector),
 *   where cozystack-api deletes it itself;
 * - it copies the HelmRelease's Ready condition into the object's status, as cozystack-api
 *   reports an application's state from its HelmRelease.
 * It renders no chart and creates no cluster object: helm-controller, CAPI and capmox do.
 */
import { KubeApiError, type KubeClient, type KubeObject, type ObjectList, Reconciler } from "../kube/index.js";
import { crdSchema, type JsonSchema } from "./crd-schema.js";

export const cozystackApiStandInName = "cozystack-api-stand-in";
const helmReleaseApiVersion = "helm.toolkit.fluxcd.io/v2";
const appsGroup = "apps.cozystack.io";
const appsVersion = "v1alpha1";

/** The parts of a CozystackResourceDefinition the stand-in reads. */
export interface ResourceDefinition {
  readonly spec: {
    readonly application: { readonly kind: string; readonly singular: string; readonly plural: string; readonly openAPISchema: string };
    readonly release: {
      readonly prefix: string;
      readonly labels?: Readonly<Record<string, string>>;
      readonly chart: { readonly name: string; readonly sourceRef: { readonly kind: string; readonly name: string; readonly namespace: string } };
    };
  };
}

/** The CRD that serves the definition's kind, its spec validated by the values schema. */
export function applicationCrd(definition: ResourceDefinition): KubeObject {
  const app = definition.spec.application;
  const values = JSON.parse(app.openAPISchema) as JsonSchema;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${app.plural}.${appsGroup}`, labels: { "cozy-proxmox.io/stand-in": cozystackApiStandInName } },
    spec: {
      group: appsGroup,
      names: { kind: app.kind, listKind: `${app.kind}List`, singular: app.singular, plural: app.plural },
      scope: "Namespaced",
      versions: [
        {
          name: appsVersion,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: crdSchema(values, "spec"),
                status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          },
        },
      ],
    },
  };
}

/** The HelmRelease cozystack-api makes of an application object. */
export function helmReleaseOf(definition: ResourceDefinition, app: KubeObject): KubeObject {
  const release = definition.spec.release;
  const userLabels = Object.fromEntries(Object.entries(app.metadata.labels ?? {}).map(([k, v]) => [`${appsGroup}-${k}`, v]));
  return {
    apiVersion: helmReleaseApiVersion,
    kind: "HelmRelease",
    metadata: {
      name: `${release.prefix}${app.metadata.name}`,
      namespace: app.metadata.namespace,
      labels: {
        ...userLabels,
        ...(release.labels ?? {}),
        [`${appsGroup}/application.kind`]: definition.spec.application.kind,
        [`${appsGroup}/application.group`]: appsGroup,
        [`${appsGroup}/application.name`]: app.metadata.name,
      },
      ownerReferences: [{ apiVersion: `${appsGroup}/${appsVersion}`, kind: definition.spec.application.kind, name: app.metadata.name, uid: app.metadata["uid"], controller: true }],
    },
    spec: {
      interval: "5m",
      chart: { spec: { chart: release.chart.name, version: ">= 0.0.0-0", reconcileStrategy: "Revision", sourceRef: { ...release.chart.sourceRef } } },
      install: { remediation: { retries: -1 } },
      upgrade: { remediation: { retries: -1 } },
      values: app["spec"] ?? {},
    },
  };
}

export interface CozystackApiStandInOptions {
  readonly client: KubeClient;
  /** The definition served first; `useDefinition` replaces it (a platform upgrade). */
  readonly definition: ResourceDefinition;
  readonly log: (line: string) => void;
}

const readyOf = (o: KubeObject): Record<string, unknown> | undefined =>
  ((o["status"] as { conditions?: Array<Record<string, unknown>> } | undefined)?.conditions ?? []).find((c) => c["type"] === "Ready");

export class CozystackApiStandIn {
  private readonly reconcilers: Reconciler[] = [];

  private definition: ResourceDefinition;

  constructor(private readonly options: CozystackApiStandInOptions) {
    this.definition = options.definition;
  }

  /** The CRD to install before `start` (the environment waits for it to be Established). */
  get crd(): KubeObject {
    return applicationCrd(this.definition);
  }

  /**
   * Serves another definition of the same kind, as a platform upgrade installs a new one:
   * the kind's CRD takes its schema, and every existing object's HelmRelease is made again
   * from it (its values stay the object's spec), as cozystack-api does on its next resync.
   */
  async useDefinition(definition: ResourceDefinition): Promise<void> {
    const kind = this.definition.spec.application.kind;
    if (definition.spec.application.kind !== kind) throw new Error(`the new definition serves ${definition.spec.application.kind}, not ${kind}`);
    this.definition = definition;
    await this.options.client.apply(applicationCrd(definition), { fieldManager: cozystackApiStandInName, force: true });
    const apps = await this.listWhileStorageReinitializes(kind);
    for (const app of apps.items) await this.toHelmRelease(app);
    this.log(`serving ${kind} from the new definition; ${apps.items.length} HelmRelease(s) made again`);
  }

  /** Each application becomes its HelmRelease; each HelmRelease's Ready goes back to its application. */
  start(): void {
    const { client } = this.options;
    const kind = this.definition.spec.application.kind;
    const log = (line: string): void => this.log(line);
    // A deleted object needs nothing: the HelmRelease goes with its owner (garbage collector).
    this.reconcilers.push(
      new Reconciler({ client, apiVersion: `${appsGroup}/${appsVersion}`, kind, log, reconcile: async (_key, app) => app && this.toHelmRelease(app) }),
      new Reconciler({ client, apiVersion: helmReleaseApiVersion, kind: "HelmRelease", log, reconcile: async (_key, release) => release && this.reportStatus(release) }),
    );
    for (const r of this.reconcilers) r.start();
  }

  /**
   * The kind's objects. Right after its CRD changed the API server answers 429 ("storage is
   * (re)initializing") for a moment and asks the client to retry, as client-go does.
   */
  private async listWhileStorageReinitializes(kind: string): Promise<ObjectList> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await this.options.client.list(`${appsGroup}/${appsVersion}`, kind, {});
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 429) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.reconcilers.splice(0).map((r) => r.stop()));
  }

  private log(line: string): void {
    this.options.log(`${cozystackApiStandInName}: ${line}`);
  }

  private async toHelmRelease(app: KubeObject): Promise<void> {
    if (app.metadata["deletionTimestamp"]) return;
    const release = helmReleaseOf(this.definition, app);
    await this.options.client.apply(release, { fieldManager: cozystackApiStandInName, force: true });
  }

  /** The application's status: its HelmRelease's Ready condition. */
  private async reportStatus(release: KubeObject): Promise<void> {
    const labels = release.metadata.labels ?? {};
    const kind = this.definition.spec.application.kind;
    const name = labels[`${appsGroup}/application.name`];
    if (labels[`${appsGroup}/application.kind`] !== kind || !name) return;
    const ready = readyOf(release);
    if (!ready) return;
    const ref = { apiVersion: `${appsGroup}/${appsVersion}`, kind, metadata: { name, namespace: release.metadata.namespace } };
    if (!(await this.options.client.get({ apiVersion: ref.apiVersion, kind, namespace: release.metadata.namespace, name }))) return;
    const { type, status, reason, message, lastTransitionTime } = ready;
    await this.options.client.apply({ ...ref, status: { conditions: [{ type, status, reason, message, lastTransitionTime }] } }, { fieldManager: cozystackApiStandInName, subresource: "status" });
  }
}
