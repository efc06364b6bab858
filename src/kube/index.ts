/**
 * The Kubernetes side of the operate layer: kubeconfig loading, a client with server-side
 * apply (strict field validation), watch-based waits with timeouts as data, the real
 * kube-apiserver/etcd binaries and the envtest-style environment built on them, and
 * `bootstrap` (what `npm run bootstrap` does).
 */
export * from "./binaries.js";
export * from "./client.js";
export * from "./errors.js";
export * from "./kubeconfig.js";
export * from "./object.js";
export * from "./wait.js";
export * from "./env/index.js";
export * from "./bootstrap/index.js";
export * from "./informer.js";
