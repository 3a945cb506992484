import type { SandboxNetworking } from './sandbox';

/**
 * The public package registries a `limited` environment with `allowPackageManagers` may reach besides its allowed
 * hosts: Debian's mirror (apt), PyPI's index and files (pip) and the npm registry.
 */
export const PACKAGE_REGISTRY_HOSTS: readonly string[] = [
  'deb.debian.org',
  'pypi.org',
  'files.pythonhosted.org',
  'registry.npmjs.org',
];

/**
 * How a sandbox reaches the network: `none` (no interface but loopback), `open` (what the host reaches, minus the host
 * itself) or `proxied` (only Keel's egress proxy, which enforces `isHostAllowed`).
 */
export type SandboxNetworkAccess = 'none' | 'open' | 'proxied';

/**
 * The access an environment's networking gives its sandbox. `limited` with no allowed host and no package managers is
 * no network at all. `allowMcpServers` alone gives none either: Keel reaches MCP servers from the worker, never from
 * the sandbox.
 */
export function sandboxNetworkAccess(networking: SandboxNetworking): SandboxNetworkAccess {
  if (networking.type === 'unrestricted') return 'open';
  return networking.allowedHosts.length > 0 || networking.allowPackageManagers ? 'proxied' : 'none';
}

/**
 * Whether `networking` lets a sandbox (or `web_fetch`) reach `host` on `port`. `unrestricted` allows everything.
 * `limited` allows a host that matches an entry of `allowedHosts`, or one of `PACKAGE_REGISTRY_HOSTS` when
 * `allowPackageManagers`. An entry is a host name or IP address, compared case-insensitively and exactly
 * (`example.com` does not match `api.example.com`); `*.example.com` matches any subdomain of `example.com` but not
 * `example.com` itself; `:port` after the host (`example.com:8443`, `[::1]:80`) limits the entry to that port, and an
 * entry without a port allows any port. A scheme or path around an entry (`https://example.com/`) is ignored. Pure, so
 * the egress proxy and the `web_fetch` Activity apply the same rule.
 */
export function isHostAllowed(networking: SandboxNetworking, host: string, port: number): boolean {
  if (!Number.isInteger(port) || port < 1 || port > 65535) return false;
  if (networking.type === 'unrestricted') return true;
  const target = normalizeHost(host);
  if (target === '') return false;
  const entries = networking.allowPackageManagers
    ? [...networking.allowedHosts, ...PACKAGE_REGISTRY_HOSTS]
    : networking.allowedHosts;
  return entries.some((entry) => entryMatches(parseEntry(entry), target, port));
}

interface HostEntry {
  host: string;
  wildcard: boolean;
  port: number | undefined;
}

function entryMatches(entry: HostEntry | undefined, host: string, port: number): boolean {
  if (entry === undefined) return false;
  if (entry.port !== undefined && entry.port !== port) return false;
  return entry.wildcard ? host.endsWith(`.${entry.host}`) : host === entry.host;
}

/** Parses an `allowedHosts` entry; an entry that is not a host (empty, bad port) matches nothing. */
function parseEntry(raw: string): HostEntry | undefined {
  let text = raw.trim().toLowerCase();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//.exec(text);
  if (scheme) text = text.slice(scheme[0].length);
  text = text.split(/[/?#]/, 1)[0] ?? '';
  const at = text.lastIndexOf('@');
  if (at >= 0) text = text.slice(at + 1);
  let hostPart = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    hostPart = bracketed[1] ?? '';
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const [name, portText] = text.split(':') as [string, string];
    if (!/^\d+$/.test(portText)) return undefined;
    hostPart = name;
    port = Number(portText);
  }
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const wildcard = hostPart.startsWith('*.');
  const host = normalizeHost(wildcard ? hostPart.slice(2) : hostPart);
  if (host === '' || host.includes('*')) return undefined;
  return { host, wildcard, port };
}

/** Lower case, without IPv6 brackets or a trailing dot, so `Example.COM.` and `example.com` compare equal. */
function normalizeHost(host: string): string {
  let value = host.trim().toLowerCase();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  if (value.endsWith('.')) value = value.slice(0, -1);
  return value;
}
