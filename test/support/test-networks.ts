import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import { removeHostFirewall } from '../../activities/sandbox/network/host-firewall';
import { sandboxNetworkNames } from '../../activities/sandbox/network/sandbox-network-names';
import type { SandboxNetworkNames } from '../../activities/sandbox/network/sandbox-network-names';
import { SandboxNetworks } from '../../activities/sandbox/network/sandbox-networks';

/** Sandbox networks of one test file: their own names, so `remove` can take them all away at the end. */
export interface TestNetworks {
  names: SandboxNetworkNames;
  networks: SandboxNetworks;
  /** Closes the proxy, removes both Docker networks and the file's firewall chain. */
  remove: () => Promise<void>;
}

export function testNetworks(docker: Docker, prefix: string): TestNetworks {
  const names = sandboxNetworkNames(`${prefix}${randomBytes(2).toString('hex')}`);
  const networks = new SandboxNetworks({ docker, firewall: 'iptables', names });
  return {
    names,
    networks,
    remove: async () => {
      await networks.close();
      for (const name of [names.open, names.limited]) {
        await docker
          .getNetwork(name)
          .remove()
          .catch(() => undefined);
      }
      await removeHostFirewall(names.firewallChain);
    },
  };
}
