import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

import { ApplicationFailure } from '@temporalio/common';
import type Docker from 'dockerode';

import type { EnvironmentSecretResolver } from '../../../common/credentials';
import { FAILURE_TYPES } from '../../../common/failures';
import { sandboxNetworkAccess } from '../../../common/network-policy';
import type { SandboxNetworking } from '../../../common/sandbox';
import { containerNetworkingLookup } from './container-networking-lookup';
import { startEgressProxy } from './egress-proxy';
import { SANDBOX_CA_BUNDLE_PATH, SANDBOX_CA_VARIABLES, SandboxCa } from './sandbox-ca';
import type { EgressProxy } from './egress-proxy';
import { ensureDockerNetwork } from './ensure-docker-network';
import { installHostFirewall } from './host-firewall';
import type { GuardedNetworks } from './host-firewall';
import { SANDBOX_NETWORK_LABELS, sandboxNetworkNames } from './sandbox-network-names';
import type { SandboxNetworkNames } from './sandbox-network-names';

/** What a container needs to get its environment's network: a Docker network mode, variables and labels. */
export interface NetworkAttachment {
  /** `none`, or the name of the network the container joins. */
  networkMode: string;
  env: string[];
  labels: Record<string, string>;
  /**
   * DNS servers for the container. A limited sandbox gets `127.0.0.1`, where nothing answers: it needs no DNS (the
   * proxy resolves names), and Docker before 23.0.11 forwards the embedded resolver's queries out of `internal`
   * networks (CVE-2024-29018), which would let a sandbox leak data in DNS queries past the proxy.
   */
  dns?: string[];
  /** Files the container mounts for its network: the CA bundle that trusts Keel's sandbox CA, for vault secrets. */
  mounts?: Docker.MountSettings[];
}

/** How a host keeps sandboxes off its own ports: Keel's iptables chain, or nothing Keel installs. */
export type SandboxFirewall = 'iptables' | 'off';

/** What `SandboxNetworks` works with. */
export interface SandboxNetworksOptions {
  docker: Docker;
  firewall: SandboxFirewall;
  /** Defaults to `sandboxNetworkNames()`, shared by every worker of the machine. */
  names?: SandboxNetworkNames;
  /** The secrets of `environment_variable` credentials, which the egress proxy substitutes for their placeholders. */
  environmentSecrets?: EnvironmentSecretResolver;
  /**
   * Where the sandbox CA lives (`dataDir`) and the CA bundle sandboxes and upstream https otherwise trust: with it
   * (and `environmentSecrets`) the proxy opens https to hosts where a vault secret may be substituted (`SandboxCa`).
   */
  interception?: { dataDir: string; caBundlePath: string | undefined };
}

const PROBE_TIMEOUT_MS = 1_000;

/**
 * The network side of one worker's sandboxes: the two Docker networks (created on first need and shared with the
 * other workers of the machine), the host firewall that keeps them off the host's own ports, and this worker's egress
 * proxy on the limited network's gateway (a free port, started on first need, stopped by `close` when the worker
 * stops). Containers remember their proxy's address; any worker's proxy serves any Keel container, since the policy
 * is read from the container's labels.
 */
export class SandboxNetworks {
  readonly names: SandboxNetworkNames;
  readonly #docker: Docker;
  readonly #firewall: SandboxFirewall;
  readonly #environmentSecrets: EnvironmentSecretResolver | undefined;
  readonly #interception: SandboxNetworksOptions['interception'];
  #ca: SandboxCa | undefined;
  #networks: Promise<GuardedNetworks> | undefined;
  #proxy: Promise<EgressProxy> | undefined;
  #closed = false;

  constructor(options: SandboxNetworksOptions) {
    this.#docker = options.docker;
    this.#firewall = options.firewall;
    this.#environmentSecrets = options.environmentSecrets;
    this.#interception = options.interception;
    this.names = options.names ?? sandboxNetworkNames();
  }

  /**
   * The network a container joins for its environment's networking, with the proxy variables when it needs them.
   * `proxied` puts an `unrestricted` container behind the egress proxy too (on the limited network, every host
   * allowed), so that the proxy can substitute its vault secrets; such a container behind the proxy also trusts
   * Keel's sandbox CA (a bundle mounted at `SANDBOX_CA_BUNDLE_PATH`, named by `SSL_CERT_FILE` and the like) when the
   * proxy opens https.
   */
  async attachment(networking: SandboxNetworking, options: { proxied?: boolean } = {}): Promise<NetworkAttachment> {
    const access = sandboxNetworkAccess(networking);
    if (access === 'none') return { networkMode: 'none', env: [], labels: {} };
    await this.#readyNetworks();
    const labels: Record<string, string> = { [SANDBOX_NETWORK_LABELS.networking]: JSON.stringify(networking) };
    if (access === 'open' && options.proxied !== true) return { networkMode: this.names.open, env: [], labels };
    const proxy = await this.proxyAddress();
    const env = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'].map((name) => `${name}=${proxy}`);
    env.push('NO_PROXY=', 'no_proxy=');
    const ca = options.proxied === true ? this.#sandboxCa() : undefined;
    if (ca !== undefined) env.push(...SANDBOX_CA_VARIABLES);
    return {
      networkMode: this.names.limited,
      env,
      labels: { ...labels, [SANDBOX_NETWORK_LABELS.proxy]: proxy },
      dns: ['127.0.0.1'],
      ...(ca === undefined
        ? {}
        : { mounts: [{ Type: 'bind', Source: ca.bundlePath, Target: SANDBOX_CA_BUNDLE_PATH, ReadOnly: true }] }),
    };
  }

  /** The open network, made ready (firewall included): where package builds run. */
  async openNetwork(): Promise<string> {
    await this.#readyNetworks();
    return this.names.open;
  }

  /**
   * Whether a container given the proxy at `address` can still use it: it is this worker's, or another live worker's
   * proxy answers there. When not (that worker stopped), the container must be replaced to get the current proxy.
   */
  async proxyServes(address: string): Promise<boolean> {
    if (address === (await this.proxyAddress())) return true;
    return answers(address);
  }

  /** This worker's egress proxy address, starting the proxy (and the networks) when need be. */
  async proxyAddress(): Promise<string> {
    if (this.#closed) throw new Error('the worker is stopping: its egress proxy is closed');
    if (this.#proxy === undefined) {
      const starting = this.#readyNetworks().then(({ limited }) =>
        startEgressProxy({
          host: limited.gateway,
          networkingOf: containerNetworkingLookup(this.#docker, limited.name),
          ...(this.#environmentSecrets === undefined
            ? {}
            : { substitutionsOf: this.#environmentSecrets.secretSubstitutions.bind(this.#environmentSecrets) }),
          ...this.#interceptionOptions(),
        }),
      );
      this.#proxy = starting;
      starting.catch(() => {
        if (this.#proxy === starting) this.#proxy = undefined;
      });
    }
    return (await this.#proxy).address;
  }

  /** Stops the egress proxy; the Docker networks and firewall stay for the machine's other workers. */
  async close(): Promise<void> {
    this.#closed = true;
    const proxy = this.#proxy;
    this.#proxy = undefined;
    if (proxy) await proxy.then((running) => running.close()).catch(() => undefined);
  }

  /** The sandbox CA, made or loaded on first need; none unless the proxy opens https. */
  #sandboxCa(): SandboxCa | undefined {
    if (this.#interception === undefined || this.#environmentSecrets === undefined) return undefined;
    this.#ca ??= new SandboxCa(this.#interception.dataDir, this.#interception.caBundlePath);
    return this.#ca;
  }

  /** The proxy's `interception` option: the CA, and what upstream https is verified against. */
  #interceptionOptions(): { interception?: { ca: SandboxCa; upstreamCa?: string[] } } {
    const ca = this.#sandboxCa();
    if (ca === undefined) return {};
    const bundle = this.#interception?.caBundlePath;
    const extra = bundle === undefined ? [] : [readFileSync(bundle, 'utf8')];
    return { interception: { ca, upstreamCa: [...tls.rootCertificates, ...extra] } };
  }

  #readyNetworks(): Promise<GuardedNetworks> {
    if (this.#networks === undefined) {
      const preparing = this.#prepareNetworks();
      this.#networks = preparing;
      preparing.catch(() => {
        if (this.#networks === preparing) this.#networks = undefined;
      });
    }
    return this.#networks;
  }

  async #prepareNetworks(): Promise<GuardedNetworks> {
    const [open, limited] = await Promise.all([
      ensureDockerNetwork(this.#docker, { name: this.names.open, internal: false }),
      ensureDockerNetwork(this.#docker, { name: this.names.limited, internal: true }),
    ]);
    if (this.#firewall === 'iptables') {
      try {
        await installHostFirewall(this.names.firewallChain, { open, limited });
      } catch (error) {
        throw ApplicationFailure.nonRetryable(
          `Keel could not install the host firewall that keeps sandboxes off the host's own ports ` +
            `(${error instanceof Error ? error.message : String(error)}). Run the worker as root on the Docker host ` +
            `with iptables, or set KEEL_SANDBOX_FIREWALL=off where the host is guarded otherwise.`,
          FAILURE_TYPES.sandboxNetworkUnavailable,
        );
      }
    }
    return { open, limited };
  }
}

/** Whether something accepts TCP connections at a proxy URL `http://host:port`. */
function answers(address: string): Promise<boolean> {
  const match = /^http:\/\/(?:\[([^\]]+)\]|([^:/]+)):(\d+)$/.exec(address);
  if (!match) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = net.connect({ host: match[1] ?? match[2] ?? '', port: Number(match[3]) });
    const done = (result: boolean): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
