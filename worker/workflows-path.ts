import path from 'node:path';

/** The only `workflowsPath`: Temporal bundles the Workflow code from here. */
export const WORKFLOWS_PATH = path.join(__dirname, '..', 'workflows', 'index.ts');

/**
 * The Workflow interceptor modules bundled with the Workflow code (Temporal takes them at bundling time only, never
 * from `Worker.create` when the bundle is prebuilt): every bundle, the worker's and the tests', lists these.
 */
export const WORKFLOW_INTERCEPTOR_MODULES = [path.join(__dirname, '..', 'workflows', 'tracing-interceptors.ts')];
