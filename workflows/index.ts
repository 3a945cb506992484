/** The only `workflowsPath`: every Workflow function Keel registers, by name. */
export { sessionWorkflow } from './session';
export { deploymentRunWorkflow } from './deployment-run';
