import { randomBytes } from 'node:crypto';
import { checkRepositoryUrl } from '../../../common/repository-url';
import type { SessionRepositoryResourceRecord } from '../../../common/session';
import { invalidField } from '../../api-error';
import { repositoryMountPath } from './session-resource-schemas';
import type { RepositoryResourceParams } from './session-resource-schemas';

/** A new session resource id (`sesrsc_…`). */
export function newResourceId(): string {
  return `sesrsc_${randomBytes(12).toString('hex')}`;
}

/**
 * The `github_repository` resource `params` asks for (without its token, which the caller stores apart): the URL must
 * be one Keel clones from (`checkRepositoryUrl` with the configured `hosts`), and the mount path defaults to
 * `/workspace/<repository name>`. A 400 names the field, under `field` (`resources[0]`, or empty for a body).
 */
export function newRepositoryResource(
  params: RepositoryResourceParams,
  hosts: readonly string[],
  field: string,
  now: string,
): SessionRepositoryResourceRecord {
  const name = (child: string): string => (field === '' ? child : `${field}.${child}`);
  const check = checkRepositoryUrl(params.url, hosts);
  if (!check.ok) throw invalidField(name('url'), check.problem);
  const mountPath = params.mount_path ?? `/workspace/${check.name}`;
  if (params.mount_path == null && !repositoryMountPath.safeParse(mountPath).success) {
    throw invalidField(
      name('mount_path'),
      `the default ${mountPath} cannot be used: give a mount_path under /workspace/`,
    );
  }
  return {
    id: newResourceId(),
    type: 'github_repository',
    url: params.url,
    checkout: params.checkout ?? null,
    mount_path: mountPath,
    created_at: now,
    updated_at: now,
  };
}
