/**
 * The test workloads of stages 5 to 7 (namespaces, PVCs, pods, Services, NetworkPolicies),
 * written with cdk8s-plus-28 and synthesised to plain objects for server-side apply.
 *
 * Every object carries the run id and the stage in its labels, so cleanup (and a person
 * with kubectl) finds all of them by `cozy-proxmox.io/stage-run=<run id>`. The pods run
 * busybox as nobody (65534) with a read-only root file system; what a probe found comes
 * back as its exit code and its termination message (`/dev/termination-log`), which the
 * API returns in the pod status, so no log streaming is needed.
 */
import { App, Chart, Duration, Size } from "cdk8s";
import * as kplus from "cdk8s-plus-28";
import type { KubeObject } from "../../kube/index.js";

/** Label with the run id on every test object. */
export const runLabel = "cozy-proxmox.io/stage-run";
/** Label with the stage number on every test object. */
export const stageLabel = "cozy-proxmox.io/stage";
/** Port the test HTTP servers listen on. */
export const serverPort = 8080;
/** Port of the LoadBalancer Service. */
export const lbPort = 80;
/** Seconds a probe waits for an answer before it calls the target unreachable. */
export const probeTimeoutSeconds = 5;

export interface WorkloadBase {
  readonly namespace: string;
  readonly runId: string;
  readonly stage: number;
  readonly image: string;
}

const nobody = { user: 65534, group: 65534, fsGroup: 65534 } as const;
// Small on purpose: test pods must fit on any worker next to the real workloads.
const small: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(10), limit: kplus.Cpu.millis(200) },
  memory: { request: Size.mebibytes(16), limit: Size.mebibytes(64) },
};

function chartOf(base: WorkloadBase, withNamespace = true): { app: App; chart: Chart } {
  const app = new App();
  const chart = new Chart(app, `stage${base.stage}`, {
    ...(withNamespace ? { namespace: base.namespace } : {}),
    labels: { [runLabel]: base.runId, [stageLabel]: String(base.stage), "app.kubernetes.io/managed-by": "cozy-proxmox" },
    disableResourceNameHashes: true,
  });
  return { app, chart };
}

const objectsOf = (chart: Chart): KubeObject[] => chart.toJson() as KubeObject[];

/** Single-quotes a string for sh. */
export function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The namespace a stage's test objects live in (deleting it removes them all). */
export function testNamespace(base: WorkloadBase): KubeObject[] {
  const { chart } = chartOf(base, false);
  new kplus.Namespace(chart, "namespace", { metadata: { name: base.namespace } });
  return objectsOf(chart);
}

function pod(chart: Chart, id: string, props: { name: string; role?: string; image: string; command: string; readiness?: kplus.Probe; volumes?: Array<{ path: string; volume: kplus.Volume }>; port?: number }): kplus.Pod {
  const p = new kplus.Pod(chart, id, {
    metadata: { name: props.name, ...(props.role ? { labels: { role: props.role } } : {}) },
    restartPolicy: kplus.RestartPolicy.NEVER,
    securityContext: nobody,
    automountServiceAccountToken: false,
    // Test pods hold nothing worth a graceful stop; cleanup should not wait 30 s per pod.
    terminationGracePeriod: Duration.seconds(1),
    containers: [
      {
        name: "main",
        image: props.image,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        command: ["sh", "-c", props.command],
        resources: small,
        ...(props.port ? { ports: [{ number: props.port }] } : {}),
        ...(props.readiness ? { readiness: props.readiness } : {}),
      },
    ],
  });
  for (const v of props.volumes ?? []) p.containers[0]!.mount(v.path, v.volume);
  return p;
}

export interface CsiWorkload {
  readonly pvc: string;
  readonly writer: string;
  readonly reader: string;
  readonly objects: KubeObject[];
}

/**
 * A PVC of the CSI StorageClass, a writer pod that writes `token` to it and exits, and a
 * reader pod (started after the writer ended, so the volume moves between pods) that
 * exits 3 with what it read when the content differs, and otherwise stays running and Ready
 * (the attach check looks at its VM meanwhile).
 */
export function csiWorkload(base: WorkloadBase, storageClass: string, token: string): CsiWorkload {
  const { chart } = chartOf(base);
  const pvc = new kplus.PersistentVolumeClaim(chart, "pvc", {
    metadata: { name: "stage5-data" },
    storage: Size.gibibytes(1),
    storageClassName: storageClass,
    accessModes: [kplus.PersistentVolumeAccessMode.READ_WRITE_ONCE],
  });
  const volume = kplus.Volume.fromPersistentVolumeClaim(chart, "volume", pvc);
  const file = "/data/probe";
  pod(chart, "writer", {
    name: "stage5-writer",
    image: base.image,
    command: `echo ${shQuote(token)} > ${file} && sync && cat ${file} > /dev/termination-log`,
    volumes: [{ path: "/data", volume }],
  });
  return { pvc: "stage5-data", writer: "stage5-writer", reader: "stage5-reader", objects: objectsOf(chart) };
}

/** The reader pod of `csiWorkload` (applied once the writer has ended). */
export function csiReader(base: WorkloadBase, pvcName: string, token: string): KubeObject[] {
  const { chart } = chartOf(base);
  const pvc = kplus.PersistentVolumeClaim.fromClaimName(chart, "pvc", pvcName);
  const volume = kplus.Volume.fromPersistentVolumeClaim(chart, "volume", pvc);
  const file = "/data/probe";
  pod(chart, "reader", {
    name: "stage5-reader",
    image: base.image,
    command: `v=$(cat ${file} 2>&1); if [ "$v" != ${shQuote(token)} ]; then echo "read: $v" > /dev/termination-log; exit 3; fi; exec sleep 3600`,
    readiness: kplus.Probe.fromCommand(["grep", "-qx", token, file], { periodSeconds: Duration.seconds(2) }),
    volumes: [{ path: "/data", volume }],
  });
  return objectsOf(chart);
}

/** An HTTP server pod answering `token` on `serverPort` (busybox httpd from an emptyDir). */
export function serverPod(base: WorkloadBase, name: string, role: string, token: string): KubeObject[] {
  const { chart } = chartOf(base);
  const www = kplus.Volume.fromEmptyDir(chart, "www", "www");
  pod(chart, name, {
    name,
    role,
    image: base.image,
    command: `echo ${shQuote(token)} > /www/index.html && exec httpd -f -p ${serverPort} -h /www`,
    port: serverPort,
    readiness: kplus.Probe.fromTcpSocket({ port: serverPort }),
    volumes: [{ path: "/www", volume: www }],
  });
  return objectsOf(chart);
}

/**
 * A probe pod: one HTTP GET of `url` with a timeout; exits with wget's code and leaves
 * what it got (the body, or wget's error) as its termination message.
 */
export function probePod(base: WorkloadBase, name: string, role: string, url: string): KubeObject[] {
  const { chart } = chartOf(base);
  pod(chart, name, {
    name,
    role,
    image: base.image,
    command: `out=$(wget -q -T ${probeTimeoutSeconds} -O - ${shQuote(url)} 2>&1); rc=$?; echo "$out" > /dev/termination-log; exit $rc`,
  });
  return objectsOf(chart);
}

/** Default deny: no pod of the namespace accepts any ingress. */
export function denyAllIngress(base: WorkloadBase): KubeObject[] {
  const { chart } = chartOf(base);
  new kplus.NetworkPolicy(chart, "deny", {
    metadata: { name: "stage6-default-deny" },
    selector: kplus.Pods.all(chart, "all"),
    ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
    egress: { default: kplus.NetworkPolicyTrafficDefault.ALLOW },
  });
  return objectsOf(chart);
}

/** Allows ingress to pods with role `to` from pods with role `from`, on the server port only. */
export function allowIngress(base: WorkloadBase, from: string, to: string): KubeObject[] {
  const { chart } = chartOf(base);
  const policy = new kplus.NetworkPolicy(chart, "allow", {
    metadata: { name: `stage6-allow-${from}-to-${to}` },
    selector: kplus.Pods.select(chart, "to", { labels: { role: to } }),
  });
  policy.addIngressRule(kplus.Pods.select(chart, "from", { labels: { role: from } }), [kplus.NetworkPolicyPort.tcp(serverPort)]);
  return objectsOf(chart);
}

/** A LoadBalancer Service on `lbPort` in front of the pods with role `role`. */
export function loadBalancer(base: WorkloadBase, name: string, role: string): KubeObject[] {
  const { chart } = chartOf(base);
  new kplus.Service(chart, "lb", {
    metadata: { name },
    type: kplus.ServiceType.LOAD_BALANCER,
    selector: kplus.Pods.select(chart, "pods", { labels: { role } }),
    ports: [{ port: lbPort, targetPort: serverPort }],
  });
  return objectsOf(chart);
}

/** A pod that only runs (stage 7 looks for its metrics). */
export function idlePod(base: WorkloadBase, name: string): KubeObject[] {
  const { chart } = chartOf(base);
  pod(chart, name, { name, role: "idle", image: base.image, command: "exec sleep 3600", readiness: kplus.Probe.fromCommand(["true"]) });
  return objectsOf(chart);
}
