import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WorkflowBundleOption } from '@temporalio/worker';

/**
 * The worker's build id: `keel-` and the first 16 hex digits of the bundle's SHA-256, so two workers running the same
 * Workflow code share it and any change of the code changes it. Temporal writes the build id into every Workflow task
 * and Activity start event (about six a tool step); its own default, `@temporalio/worker@<version>+<64 hex digits>`,
 * is about 110 bytes each time, this one 21 (about 500 bytes of history saved per step). Worker versioning is not
 * used, so the id only names the code that ran each task (the Temporal UI shows it).
 */
export function workflowBuildId(bundle: WorkflowBundleOption): string {
  const code = 'code' in bundle ? bundle.code : readFileSync(bundle.codePath, 'utf8');
  return `keel-${createHash('sha256').update(code).digest('hex').slice(0, 16)}`;
}
