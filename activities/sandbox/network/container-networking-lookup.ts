import type Docker from 'dockerode';

import type { SandboxNetworking } from '../../../common/sandbox';
import { SANDBOX_NETWORK_LABELS } from './sandbox-network-names';
import type { NetworkingLookup } from './egress-proxy';

/**
 * The egress proxy's lookup: the networking and credentials labels of the Keel container that holds `address` on
 * `networkName`, asked of Docker on every new client connection (never cached, so an address reused by a newer
 * container gets that container's policy). Containers cannot forge their source address: they have no capabilities. Any worker's proxy
 * can thus serve any sandbox of the machine, since the policy travels with the container.
 */
export function containerNetworkingLookup(docker: Docker, networkName: string): NetworkingLookup {
  return async (address) => {
    const containers = await docker.listContainers({
      filters: { network: [networkName], label: [SANDBOX_NETWORK_LABELS.networking] },
    });
    const owner = containers.find(
      (container) => container.NetworkSettings.Networks[networkName]?.IPAddress === address,
    );
    const label = owner?.Labels[SANDBOX_NETWORK_LABELS.networking];
    const networking = label === undefined ? undefined : parseNetworking(label);
    if (networking === undefined) return undefined;
    return { networking, credentialIds: parseCredentialIds(owner?.Labels[SANDBOX_NETWORK_LABELS.credentials]) };
  };
}

/** The credential ids in a container label (a JSON array of `vcrd_…` ids); none when absent or not one Keel wrote. */
export function parseCredentialIds(label: string | undefined): string[] {
  if (label === undefined) return [];
  try {
    const value: unknown = JSON.parse(label);
    return Array.isArray(value) && value.every((id) => typeof id === 'string' && /^vcrd_[0-9A-Za-z]+$/.test(id))
      ? (value as string[])
      : [];
  } catch {
    return [];
  }
}

/** The networking in a container label, or `undefined` when it is not one Keel wrote. */
export function parseNetworking(label: string): SandboxNetworking | undefined {
  let value: unknown;
  try {
    value = JSON.parse(label);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (record.type === 'unrestricted') return { type: 'unrestricted' };
  const hosts = record.allowedHosts;
  if (record.type !== 'limited' || !Array.isArray(hosts) || !hosts.every((host) => typeof host === 'string')) {
    return undefined;
  }
  return {
    type: 'limited',
    allowedHosts: hosts,
    allowPackageManagers: record.allowPackageManagers === true,
    allowMcpServers: record.allowMcpServers === true,
  };
}
