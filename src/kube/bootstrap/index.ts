export * from "./apply.js";
export * from "./credentials.js";
export * from "./installer.js";
export * from "./preflight.js";
export * from "./run.js";
export * from "./packages.js";
