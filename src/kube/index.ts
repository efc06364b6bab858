/**
 * Talking to a Kubernetes API server: kubeconfig loading, a client with server-side apply
 * (strict field validation), errors, object references, watch-based waits with timeouts as
 * data, and a small informer. Loading it loads `@kubernetes/client-node` (for kubeconfigs),
 * which costs about half a second: `npm run synth` never imports it.
 *
 * Two neighbours are public surfaces of their own, imported through their own indexes, so
 * that a client user does not load them:
 * - `./env/index.js`: the real kube-apiserver/etcd binaries and a throw-away control plane
 *   on them (`npm run kube:up`, the integration tests);
 * - `./bootstrap/index.js`: what `npm run bootstrap` does to a management cluster (it needs
 *   the config, the bundle and the CozyStack overlay).
 */
export * from "./client.js";
export * from "./errors.js";
export * from "./informer.js";
export * from "./kubeconfig.js";
export * from "./object.js";
export * from "./reconciler.js";
export * from "./wait.js";
