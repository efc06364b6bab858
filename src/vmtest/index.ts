/**
 * The VM-creation test (`npm run vm-test`): create, check and destroy a VM per node, and
 * sweep leftovers of interrupted runs.
 */
export { runVmTest, specFromConfig, VM_TEST_STAGE, VM_TEST_TITLE, type VmSpec, type VmTestInput } from "./run.js";
export { destroyOwnedVm, manualRemoval, type CleanupResult, type OwnedVm, type CleanupOptions } from "./cleanup.js";
export { capiOwnerOf, capmoxTags, ownerRemedy, type CapiOwner, type CapiView } from "./capi-owner.js";
export { sweep, findLeftovers, type Leftover, type SweepOptions, type SweepResult } from "./sweep.js";
export {
  OWNER_TAG,
  RUN_TAG_PREFIX,
  NAME_PREFIX,
  DESCRIPTION_MARKER,
  newRunId,
  isRunId,
  runStartedAt,
  runTag,
  vmName,
  vmDescription,
  vmTags,
  ownedRunId,
  splitTags,
} from "../ownership/index.js";
