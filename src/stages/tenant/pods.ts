/**
 * A pod's state in a few words, from its status as the API returns it: phase, readiness,
 * the first container's exit code and termination message (how test pods report), and the
 * waiting reason that means it will not start (image pull back-off, bad config).
 */
import { conditionsOf, type KubeObject } from "../../kube/index.js";

export interface PodState {
  readonly phase: string;
  readonly ready: boolean;
  readonly exitCode?: number;
  /** Termination message, trimmed. */
  readonly message?: string;
  readonly waitingReason?: string;
  readonly waitingMessage?: string;
  /** Why it is not scheduled (PodScheduled=False), e.g. an unbound PVC. */
  readonly unschedulable?: string;
  readonly nodeName?: string;
  readonly podIP?: string;
}

interface ContainerStatus {
  readonly ready?: boolean;
  readonly state?: {
    readonly waiting?: { readonly reason?: string; readonly message?: string };
    readonly terminated?: { readonly exitCode?: number; readonly message?: string; readonly reason?: string };
  };
}

/** Waiting reasons after which the kubelet will not start the container without a change. */
export const fatalWaitingReasons: ReadonlySet<string> = new Set(["ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"]);

export function podState(pod: KubeObject | undefined): PodState {
  if (!pod) return { phase: "Missing", ready: false };
  const status = (pod["status"] as { phase?: string; podIP?: string; containerStatuses?: ContainerStatus[] } | undefined) ?? {};
  const spec = (pod["spec"] as { nodeName?: string } | undefined) ?? {};
  const container = status.containerStatuses?.[0];
  const terminated = container?.state?.terminated;
  const waiting = container?.state?.waiting;
  const scheduled = conditionsOf(pod).find((c) => c.type === "PodScheduled");
  return {
    phase: status.phase ?? "Pending",
    ready: conditionsOf(pod).some((c) => c.type === "Ready" && c.status === "True"),
    ...(terminated?.exitCode !== undefined ? { exitCode: terminated.exitCode } : {}),
    ...(terminated?.message !== undefined ? { message: terminated.message.trim() } : {}),
    ...(waiting?.reason ? { waitingReason: waiting.reason } : {}),
    ...(waiting?.message ? { waitingMessage: waiting.message } : {}),
    ...(scheduled?.status === "False" ? { unschedulable: [scheduled.reason, scheduled.message].filter(Boolean).join(": ") } : {}),
    ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
    ...(status.podIP ? { podIP: status.podIP } : {}),
  };
}

/** The pod ran to an end (Succeeded or Failed), or will not start. */
export function podEnded(pod: KubeObject | undefined): boolean {
  const s = podState(pod);
  return s.phase === "Succeeded" || s.phase === "Failed" || (s.waitingReason !== undefined && fatalWaitingReasons.has(s.waitingReason));
}

/** Ready, or ended (so a wait for readiness also ends on failure). */
export function podReadyOrEnded(pod: KubeObject | undefined): boolean {
  return podState(pod).ready || podEnded(pod);
}

/** `Pod ns/name Pending (ImagePullBackOff: …)`, for timeouts and failures. */
export function describePod(pod: KubeObject | undefined, name = "?"): string {
  if (!pod) return `Pod ${name} does not exist`;
  const s = podState(pod);
  const parts = [
    s.waitingReason ? `${s.waitingReason}${s.waitingMessage ? `: ${s.waitingMessage}` : ""}` : undefined,
    s.unschedulable ? `not scheduled: ${s.unschedulable}` : undefined,
    s.exitCode !== undefined ? `exit code ${s.exitCode}${s.message ? `, said ${JSON.stringify(s.message)}` : ""}` : undefined,
    s.nodeName ? `on ${s.nodeName}` : undefined,
  ].filter(Boolean);
  return `Pod ${pod.metadata.namespace ?? ""}/${pod.metadata.name} ${s.phase}${s.ready ? " Ready" : ""}${parts.length ? ` (${parts.join("; ")})` : ""}`;
}
