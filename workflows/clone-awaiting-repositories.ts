import { isCancellation } from '@temporalio/workflow';
import type { CloneRepositoryResult } from '../common/repository-clone';
import { DEFAULT_SANDBOX_ENVIRONMENT } from '../common/sandbox';
import type { SandboxEnvironment, SandboxFileMount } from '../common/sandbox';
import type { RepositoryCloneState, SessionRepositoryResourceRecord, SessionResourceRecord } from '../common/session';
import { cloneRepository } from './activities';
import type { EventLog } from './event-log';
import { repositoryClonesAfterAttempt, repositoryResources } from './session-resources';
import type { CloneAttemptOutcome } from './session-resources';

/** What cloning needs of the session: its resources and clone state (kept current by its Update handler), and more. */
export interface RepositoryCloneContext {
  sessionId: string;
  files: SandboxFileMount[];
  environment: SandboxEnvironment;
  log: EventLog;
  resources: SessionResourceRecord[];
  repositoryClones: RepositoryCloneState;
}

/**
 * Clones every repository that waits for it into the session's sandbox, one at a time, before a sandbox tool call
 * (and after eager provisioning). A clone that fails logs `session.error` with the `repository_*` type and
 * `retry_status: retrying` (the session goes on without the repository, as the SDK documents) and waits for a
 * rotated token. With nothing waiting it schedules nothing, so histories without repositories replay unchanged.
 */
export async function cloneAwaitingRepositories(context: RepositoryCloneContext): Promise<void> {
  for (const resourceId of [...context.repositoryClones.awaiting]) {
    // A deletion while an earlier clone ran takes the repository out of the list.
    if (!context.repositoryClones.awaiting.includes(resourceId)) continue;
    const resource = findRepository(context, resourceId);
    if (resource === undefined) {
      context.repositoryClones = repositoryClonesAfterAttempt(context.repositoryClones, resourceId, 'gone');
      continue;
    }
    const result = await attemptClone(context, resource);
    const current = findRepository(context, resourceId);
    const outcome: CloneAttemptOutcome =
      current === undefined
        ? 'gone'
        : result.ok
          ? 'cloned'
          : current.updated_at === resource.updated_at
            ? 'failed'
            : 'rotated';
    if (!result.ok && outcome !== 'gone') {
      context.log.append({
        type: 'session.error',
        error: {
          type: result.error.type,
          message: result.error.message,
          repository_url: resource.url,
          retry_status: { type: 'retrying' },
        },
      });
    }
    context.repositoryClones = repositoryClonesAfterAttempt(context.repositoryClones, resourceId, outcome);
  }
}

/** One clone; an Activity that failed for good (retries used up, a lost worker) is a `repository_clone_error`. */
async function attemptClone(
  context: RepositoryCloneContext,
  resource: SessionRepositoryResourceRecord,
): Promise<CloneRepositoryResult> {
  const { sessionId, files, environment } = context;
  try {
    return await cloneRepository({
      sessionId,
      resourceId: resource.id,
      url: resource.url,
      checkout: resource.checkout,
      mountPath: resource.mount_path,
      ...(files.length === 0 ? {} : { files }),
      ...(JSON.stringify(environment) === JSON.stringify(DEFAULT_SANDBOX_ENVIRONMENT) ? {} : { environment }),
    });
  } catch (error) {
    if (isCancellation(error)) throw error;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const message = cause instanceof Error ? cause.message : String(cause);
    return { ok: false, error: { type: 'repository_clone_error', message: `The clone could not run: ${message}` } };
  }
}

function findRepository(
  context: RepositoryCloneContext,
  resourceId: string,
): SessionRepositoryResourceRecord | undefined {
  return repositoryResources(context.resources).find((resource) => resource.id === resourceId);
}
