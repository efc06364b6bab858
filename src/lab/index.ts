/**
 * The lab: a Proxmox VE API emulator on loopback for tests and `npm run lab`.
 */
export { startLab, type LabHandle, type LabToken, type StartLabOptions } from "./start.js";
export { DEFAULT_LIMITS, type LabLimits } from "./limits.js";
export {
  defaultScenario,
  timingPresets,
  loadScenarioFile,
  validateScenario,
  ScenarioError,
  withAdminToken,
  type Scenario,
  type ScenarioAcl,
  type ScenarioAgent,
  type ScenarioAgentCommand,
  type ScenarioBridge,
  type ScenarioNode,
  type ScenarioPool,
  type ScenarioStorage,
  type ScenarioTiming,
  type ScenarioToken,
  type ScenarioUser,
  type ScenarioVm,
} from "./scenario.js";
export { FaultController, type FaultRule } from "./faults.js";
export { LabState, type LabNode, type LabStorage, type LabVm, type LabVolume, type LabTask, type LabBridge, type VmEvent } from "./state.js";
export { formatUpid, parseUpid, type Upid } from "./tasks.js";
export { ROLES, ROLES_PVE8, ALL_PRIVILEGES, PVE8_PRIVILEGES } from "./access.js";
