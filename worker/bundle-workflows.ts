import { renameSync, writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from './workflows-path';

/**
 * Bundles the Workflow code into the file named by its only argument (written whole, then renamed, so a reader never
 * sees half a bundle). Run as its own process by `prebuiltWorkflowBundle`, so webpack's memory never stays in a worker.
 */
async function main(target: string | undefined): Promise<void> {
  if (target === undefined) throw new Error('usage: bundle-workflows <target file>');
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: quietLogger(),
  });
  const partial = `${target}.${process.pid}.partial`;
  writeFileSync(partial, code);
  renameSync(partial, target);
}

function quietLogger(): Parameters<typeof bundleWorkflowCode>[0]['logger'] {
  const ignore = (): void => undefined;
  return {
    log: ignore,
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (message) => console.warn(message),
    error: (message) => console.error(message),
  };
}

main(process.argv[2]).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
