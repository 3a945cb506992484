import path from 'node:path';

/** The only `workflowsPath`: Temporal bundles the Workflow code from here. */
export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.ts');
