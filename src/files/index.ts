/** Writing files and folders whole or not at all. */
export { replaceFolderSync, writeFileAtomic, writeFileAtomicSync, type AtomicWriteOptions } from "./atomic.js";
export * from "./output-plan.js";
