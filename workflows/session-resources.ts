import type { SandboxFileMount } from '../common/sandbox';
import type { SessionFileResourceRecord, SessionResourceChange } from '../common/session';

/** Why `change` cannot apply to `resources`, or `null` when it can. Pure, so the rules are tested alone. */
export function resourceChangeProblem(
  resources: readonly SessionFileResourceRecord[],
  change: SessionResourceChange,
): string | null {
  if (change.op === 'delete') {
    return resources.some((resource) => resource.id === change.resourceId)
      ? null
      : `The session has no resource ${change.resourceId}.`;
  }
  if (resources.some((resource) => resource.id === change.resource.id)) return null; // a retried add: no change
  const taken = resources.find((resource) => resource.mount_path === change.resource.mount_path);
  return taken === undefined ? null : `mount_path ${change.resource.mount_path} is already used by ${taken.id}.`;
}

/** `resources` with `change` applied (after `resourceChangeProblem` said it can be); a retried add changes nothing. */
export function applyResourceChange(
  resources: readonly SessionFileResourceRecord[],
  change: SessionResourceChange,
): SessionFileResourceRecord[] {
  if (change.op === 'delete') return resources.filter((resource) => resource.id !== change.resourceId);
  if (resources.some((resource) => resource.id === change.resource.id)) return [...resources];
  return [...resources, change.resource];
}

/** The sandbox mounts of `resources`. */
export function fileMounts(resources: readonly SessionFileResourceRecord[]): SandboxFileMount[] {
  return resources.map((resource) => ({ fileId: resource.file_id, mountPath: resource.mount_path }));
}
