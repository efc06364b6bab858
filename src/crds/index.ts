/** Pinned upstream CRDs and strict validation of objects against them. */
export { crdCatalog, crdVersion, findCrds, loadCrd, type CrdDocument, type CrdFile, type CrdVersion } from "./catalog.js";
export { formatValidationIssues, validateObjects, type ValidateOptions, type ValidationIssue } from "./validate.js";
