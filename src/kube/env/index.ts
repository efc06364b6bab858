/**
 * A throw-away Kubernetes control plane on 127.0.0.1 (`npm run kube:up`, the integration
 * tests, the management stand-in in src/mgmt): the real kube-apiserver, kube-controller-manager
 * and etcd built from their Go modules and cached (and the Go build machinery the controllers
 * in src/mgmt reuse), their certificates, free ports, the server processes and the product's CRDs.
 * Its own public surface, apart from the client in src/kube/index.ts.
 */
export * from "./binaries.js";
export * from "./crds.js";
export * from "./env.js";
export * from "./pki.js";
export * from "./ports.js";
export * from "./process.js";
