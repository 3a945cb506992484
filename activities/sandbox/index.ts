export { createSandboxActivities } from './create-sandbox-activities';
export type { SandboxActivities } from './create-sandbox-activities';
export type { SandboxOptions } from './sandbox-options';
export { SANDBOX_TOOL_DEFINITIONS } from './tool-definitions';
export type { SandboxToolDefinition } from './tool-definitions';
export { SANDBOX_IMAGE_MISSING_FAILURE } from './provision-sandbox';
