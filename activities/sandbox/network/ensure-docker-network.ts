import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';

import { FAILURE_TYPES } from '../../../common/failures';
import { dockerStatusCode } from '../docker-status-code';
import { SANDBOX_NETWORK_LABELS } from './sandbox-network-names';

/** A sandbox network as the host sees it: its Linux bridge and the bridge's own address (the gateway). */
export interface DockerNetworkInfo {
  name: string;
  bridge: string;
  gateway: string;
  subnet: string;
}

const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';

/**
 * Creates the bridge network `name` (its Linux bridge also named `name`) unless it exists, and returns where it is.
 * Containers on it cannot reach each other (inter-container traffic off), so two sessions' sandboxes stay apart.
 * `internal` networks have no route out. An existing network that differs (not internal when it must be, another
 * bridge) is refused rather than trusted: a sandbox on it could reach more than its environment allows.
 */
export async function ensureDockerNetwork(
  docker: Docker,
  options: { name: string; internal: boolean },
): Promise<DockerNetworkInfo> {
  const { name, internal } = options;
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      CheckDuplicate: true,
      Internal: internal,
      Labels: { [SANDBOX_NETWORK_LABELS.network]: internal ? 'limited' : 'open' },
      Options: {
        [BRIDGE_NAME_OPTION]: name,
        'com.docker.network.bridge.enable_icc': 'false',
      },
    });
  } catch (error) {
    // 409: it exists (another worker, or an earlier run, made it); anything else is checked by the inspect below.
    if (dockerStatusCode(error) !== 409) {
      const existing = await inspectOrUndefined(docker, name);
      if (existing === undefined) throw error;
    }
  }
  const info = await docker.getNetwork(name).inspect();
  const bridge = info.Options?.[BRIDGE_NAME_OPTION] ?? '';
  const config = info.IPAM?.Config?.[0];
  if (info.Driver !== 'bridge' || Boolean(info.Internal) !== internal || bridge !== name) {
    throw ApplicationFailure.nonRetryable(
      `Docker network ${name} exists but is not the ${internal ? 'internal ' : ''}bridge Keel expects ` +
        `(driver ${info.Driver}, internal ${String(info.Internal)}, bridge ${bridge || 'unnamed'}): remove it with \`docker network rm ${name}\``,
      FAILURE_TYPES.sandboxNetworkUnavailable,
    );
  }
  if (config?.Gateway === undefined || config.Subnet === undefined) {
    throw new Error(`Docker network ${name} has no IPv4 gateway`);
  }
  return { name, bridge, gateway: config.Gateway, subnet: config.Subnet };
}

async function inspectOrUndefined(docker: Docker, name: string): Promise<unknown> {
  try {
    return await docker.getNetwork(name).inspect();
  } catch (error) {
    if (dockerStatusCode(error) === 404) return undefined;
    throw error;
  }
}
