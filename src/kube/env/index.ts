export * from "./crds.js";
export * from "./env.js";
export * from "./pki.js";
export * from "./ports.js";
export * from "./process.js";
