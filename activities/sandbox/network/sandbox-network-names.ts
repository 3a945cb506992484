/** Docker labels Keel puts on the networks it creates and on containers that have a network. */
export const SANDBOX_NETWORK_LABELS = {
  /** On a Docker network Keel created: its role, `open` or `limited`. */
  network: 'dev.keel.network',
  /** On a container with a network: its `SandboxNetworking` as JSON, which the egress proxy enforces. */
  networking: 'dev.keel.networking',
  /** On a container behind the egress proxy: the proxy address it was given (`http://gateway:port`). */
  proxy: 'dev.keel.proxy',
  /**
   * On a container with `environment_variable` vault credentials: their ids as a JSON array. The egress proxy reads
   * them (never the secrets, which it reads from the store) to know which placeholders it may substitute.
   */
  credentials: 'dev.keel.credentials',
} as const;

/** The names of one set of sandbox networks: Docker networks (and their bridges) and the host firewall chain. */
export interface SandboxNetworkNames {
  /** The bridge network of `unrestricted` sandboxes and of package builds. */
  open: string;
  /** The internal network (no route out) of `limited` sandboxes, where only the egress proxy answers. */
  limited: string;
  /** The iptables chain in the `filter` table's `INPUT` that keeps both networks off the host's own ports. */
  firewallChain: string;
}

/** Linux caps interface names at 15 characters, and `<prefix>-limited` names a bridge. */
const MAX_PREFIX_LENGTH = 7;

/**
 * The names of the sandbox networks with `prefix` (default `keel`: `keel-open`, `keel-limited`, chain `KEEL-SANDBOX`).
 * Every worker on a machine shares the default ones; tests use their own prefix so they can remove what they made.
 */
export function sandboxNetworkNames(prefix = 'keel'): SandboxNetworkNames {
  if (!/^[a-z][a-z0-9]*$/.test(prefix) || prefix.length > MAX_PREFIX_LENGTH) {
    throw new Error(
      `sandbox network prefix ${prefix}: expected 1 to ${MAX_PREFIX_LENGTH} lower-case letters or digits`,
    );
  }
  return {
    open: `${prefix}-open`,
    limited: `${prefix}-limited`,
    firewallChain: `${prefix.toUpperCase()}-SANDBOX`,
  };
}
