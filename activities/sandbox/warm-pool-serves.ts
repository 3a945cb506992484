import { sandboxNetworkAccess } from '../../common/network-policy';
import type { SandboxEnvironment, SandboxFileMount } from '../../common/sandbox';
import { hasPackages, normalizedPackages } from './packages/package-set';

/**
 * Whether a warm container can be a session's sandbox: the pool's containers run the base image with no network and
 * no file mount, and none of that can change once a container runs. So only a session with no packages (hence the
 * worker's CA bundle, which only package builds use, never matters), no network (no environment, or `limited` with no
 * allowed host and no package managers) and no file resource is served; any other session (packages, `unrestricted`
 * or `limited` with hosts, files) starts its container the normal way.
 */
export function warmPoolServes(files: SandboxFileMount[], environment: SandboxEnvironment): boolean {
  return (
    files.length === 0 &&
    sandboxNetworkAccess(environment.networking) === 'none' &&
    !hasPackages(normalizedPackages(environment.packages))
  );
}
