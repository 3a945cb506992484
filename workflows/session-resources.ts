import type { SandboxFileMount } from '../common/sandbox';
import type {
  RepositoryCloneState,
  SessionRepositoryResourceRecord,
  SessionResourceChange,
  SessionResourceRecord,
} from '../common/session';

/** Why `change` cannot apply to `resources`, or `null` when it can. Pure, so the rules are tested alone. */
export function resourceChangeProblem(
  resources: readonly SessionResourceRecord[],
  change: SessionResourceChange,
): string | null {
  if (change.op === 'delete' || change.op === 'rotate') {
    const resource = resources.find((candidate) => candidate.id === change.resourceId);
    if (resource === undefined) return `The session has no resource ${change.resourceId}.`;
    if (change.op === 'rotate' && resource.type !== 'github_repository') {
      return `${resource.id} is a ${resource.type} resource, which has no authorization_token.`;
    }
    return null;
  }
  if (resources.some((resource) => resource.id === change.resource.id)) return null; // a retried add: no change
  const taken = resources.find((resource) => resource.mount_path === change.resource.mount_path);
  return taken === undefined ? null : `mount_path ${change.resource.mount_path} is already used by ${taken.id}.`;
}

/** `resources` with `change` applied (after `resourceChangeProblem` said it can be); a retried add changes nothing. */
export function applyResourceChange(
  resources: readonly SessionResourceRecord[],
  change: SessionResourceChange,
): SessionResourceRecord[] {
  switch (change.op) {
    case 'delete':
      return resources.filter((resource) => resource.id !== change.resourceId);
    case 'rotate':
      return resources.map((resource) =>
        resource.id === change.resourceId ? { ...resource, updated_at: change.updatedAt } : resource,
      );
    case 'add':
      if (resources.some((resource) => resource.id === change.resource.id)) return [...resources];
      return [...resources, change.resource];
  }
}

/** The sandbox mounts of the `file` resources among `resources`. */
export function fileMounts(resources: readonly SessionResourceRecord[]): SandboxFileMount[] {
  return resources.flatMap((resource) =>
    resource.type === 'file' ? [{ fileId: resource.file_id, mountPath: resource.mount_path }] : [],
  );
}

/** The `github_repository` resources among `resources`. */
export function repositoryResources(resources: readonly SessionResourceRecord[]): SessionRepositoryResourceRecord[] {
  return resources.filter((resource) => resource.type === 'github_repository');
}

/** A new session's repositories: every one of them waits for its clone. */
export function initialRepositoryClones(resources: readonly SessionResourceRecord[]): RepositoryCloneState {
  return { awaiting: repositoryResources(resources).map((resource) => resource.id), failed: [] };
}

/**
 * The clone state after `change` was applied to `before`: an added repository waits for its clone, a deleted one is
 * forgotten (its files stay in the workspace), and a rotated token makes a repository whose clone failed wait again.
 */
export function repositoryClonesAfterChange(
  state: RepositoryCloneState,
  before: readonly SessionResourceRecord[],
  change: SessionResourceChange,
): RepositoryCloneState {
  switch (change.op) {
    case 'add': {
      const { resource } = change;
      const isNew = !before.some((existing) => existing.id === resource.id);
      if (resource.type !== 'github_repository' || !isNew) return state;
      return { ...state, awaiting: [...state.awaiting, resource.id] };
    }
    case 'delete':
      return forget(state, change.resourceId);
    case 'rotate':
      if (!state.failed.includes(change.resourceId)) return state;
      return { awaiting: [...state.awaiting, change.resourceId], failed: without(state.failed, change.resourceId) };
  }
}

/**
 * How a clone attempt ended for the Workflow: `cloned` (or already there), `failed`, `rotated` (it failed, but the
 * token was rotated while it ran, so the new one gets its own attempt), or `gone` (the resource was deleted meanwhile).
 */
export type CloneAttemptOutcome = 'cloned' | 'failed' | 'rotated' | 'gone';

/** The clone state after an attempt at `resourceId` ended with `outcome`. */
export function repositoryClonesAfterAttempt(
  state: RepositoryCloneState,
  resourceId: string,
  outcome: CloneAttemptOutcome,
): RepositoryCloneState {
  switch (outcome) {
    case 'cloned':
    case 'gone':
      return forget(state, resourceId);
    case 'failed':
      return {
        awaiting: without(state.awaiting, resourceId),
        failed: [...without(state.failed, resourceId), resourceId],
      };
    case 'rotated':
      return state;
  }
}

/** Whether nothing waits: no repository to clone and none failed (a run then carries no clone state). */
export function noRepositoryClones(state: RepositoryCloneState): boolean {
  return state.awaiting.length === 0 && state.failed.length === 0;
}

function forget(state: RepositoryCloneState, resourceId: string): RepositoryCloneState {
  return { awaiting: without(state.awaiting, resourceId), failed: without(state.failed, resourceId) };
}

function without(ids: readonly string[], id: string): string[] {
  return ids.filter((candidate) => candidate !== id);
}
