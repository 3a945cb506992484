import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import type { SandboxEnvironment } from '../../common/sandbox';
import { invalidField } from '../api-error';

/** Package managers whose lists Keel installs into the sandbox image; the others are refused when a session starts. */
const INSTALLED_MANAGERS = ['apt', 'pip', 'npm'] as const;
const REFUSED_MANAGERS = ['cargo', 'gem', 'go'] as const;

/**
 * The `SandboxEnvironment` a session snapshots from its environment when it starts, so later changes to the
 * environment never change a running session. An environment listing cargo, gem or go packages is refused with a
 * 400 naming `field`: Keel's sandbox image has no toolchain for them, and ignoring the list would be worse.
 */
export function toSandboxEnvironment(environment: BetaEnvironment, field: string): SandboxEnvironment {
  if (environment.config.type !== 'cloud') {
    throw invalidField(
      field,
      `environment ${environment.id} is ${environment.config.type}; Keel runs cloud environments`,
    );
  }
  const { networking, packages } = environment.config;
  for (const manager of REFUSED_MANAGERS) {
    if (packages[manager].length > 0) {
      throw invalidField(
        field,
        `environment ${environment.id} lists ${manager} packages; Keel installs ${INSTALLED_MANAGERS.join(', ')} packages only`,
      );
    }
  }
  return {
    environmentId: environment.id,
    networking:
      networking.type === 'unrestricted'
        ? { type: 'unrestricted' }
        : {
            type: 'limited',
            allowedHosts: [...networking.allowed_hosts],
            allowPackageManagers: networking.allow_package_managers,
            allowMcpServers: networking.allow_mcp_servers,
          },
    packages: { apt: [...packages.apt], pip: [...packages.pip], npm: [...packages.npm] },
  };
}
