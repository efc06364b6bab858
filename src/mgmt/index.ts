/**
 * The management environment: the real Cluster API controllers, capmox and IPAM against a
 * real kube-apiserver, the lab as Proxmox, and the Kamaji stand-in.
 */
export * from "./binaries.js";
export * from "./components.js";
export * from "./controllers.js";
export * from "./env.js";
export * from "./kamaji-stand-in.js";
export * from "./crd-schema.js";
export * from "./cozystack-api-stand-in.js";
export * from "./flux-binaries.js";
export * from "./flux.js";
export * from "./helm-repository.js";
export type { LabCredentials } from "./lab-credentials.js";
