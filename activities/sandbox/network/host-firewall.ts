import { execFile } from 'node:child_process';

import type { DockerNetworkInfo } from './ensure-docker-network';

/** The sandbox networks a firewall chain guards. */
export interface GuardedNetworks {
  open: DockerNetworkInfo;
  limited: DockerNetworkInfo;
}

/**
 * Keeps sandboxes off the host's own ports with iptables rules in the `filter` table: the named `chain`, jumped to
 * first from `INPUT`. A container on the open network may not open anything on the host (whatever address it uses:
 * the gateway, the host's LAN address, another bridge's); a container on the limited network may only reach sockets
 * bound to its gateway address itself (the `socket` match ignores listeners on 0.0.0.0), which only Keel's egress
 * proxies are; and nothing but the host and that network may reach the limited gateway. Traffic through the host
 * (the `FORWARD` chain) is Docker's: the open network is routed out, the internal one is dropped.
 *
 * Idempotent and safe to run from several workers at once: the chain's whole content is replaced in one
 * `iptables-restore` transaction, and the `INPUT` jump is added only when missing.
 */
export async function installHostFirewall(chain: string, networks: GuardedNetworks): Promise<void> {
  const { open, limited } = networks;
  const gateway = `${limited.gateway}/32`;
  const rules = [
    `-A ${chain} -i ${open.bridge} -j DROP`,
    `-A ${chain} -i ${limited.bridge} -d ${gateway} -p tcp -m socket -j RETURN`,
    `-A ${chain} -i ${limited.bridge} -j DROP`,
    `-A ${chain} -i lo -j RETURN`,
    `-A ${chain} -d ${gateway} -j DROP`,
  ];
  await run(
    'iptables-restore',
    ['--wait', '--noflush'],
    ['*filter', `:${chain} - [0:0]`, `-F ${chain}`, ...rules, 'COMMIT', ''].join('\n'),
  );
  const jump = ['INPUT', '-j', chain];
  if (!(await succeeds('iptables', ['--wait', '-C', ...jump])))
    await run('iptables', ['--wait', '-I', 'INPUT', '1', '-j', chain]);
}

/** Removes `chain` and every jump to it from `INPUT`; what is already gone is no error. */
export async function removeHostFirewall(chain: string): Promise<void> {
  while (await succeeds('iptables', ['--wait', '-D', 'INPUT', '-j', chain])) {
    // One jump removed per call; a concurrent install may have added two.
  }
  await succeeds('iptables', ['--wait', '-F', chain]);
  await succeeds('iptables', ['--wait', '-X', chain]);
}

/** The rules of `chain` as `iptables -S` prints them, for tests and diagnostics. */
export async function listHostFirewall(chain: string): Promise<string[]> {
  const output = await run('iptables', ['--wait', '-S', chain]);
  return output.split('\n').filter((line) => line.length > 0);
}

function run(command: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    // A command that exits before reading its input (iptables -C) must not turn into an EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
}

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    await run(command, args);
    return true;
  } catch {
    return false;
  }
}
