/** The only `workflowsPath`: every Workflow function Keel registers, by name. */
export { sessionWorkflow } from './session';
export { sessionThreadWorkflow } from './session-thread';
export { deploymentRunWorkflow } from './deployment-run';
