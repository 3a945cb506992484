/** Where a proxied request goes: a host name or IP address (IPv6 without brackets) and a port. */
export interface ProxyTarget {
  host: string;
  port: number;
}

/** A CONNECT request's authority, `host:port` or `[v6]:port`; `undefined` when it is not one. */
export function parseConnectAuthority(authority: string): ProxyTarget | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:/[\]@]+)):(\d{1,5})$/.exec(authority);
  if (!match) return undefined;
  return target(match[1] ?? match[2] ?? '', match[3] ?? '');
}

/**
 * A plain-HTTP proxy request's absolute URI (`http://host[:port]/path?query`): its target and the path to send
 * upstream; `undefined` for anything else (a relative path, another scheme such as `https:`, which needs CONNECT).
 */
export function parseAbsoluteHttpUri(uri: string): (ProxyTarget & { path: string }) | undefined {
  const match =
    /^http:\/\/(?:[^@/?#\s]*@)?(?:\[([0-9a-fA-F:.]+)\]|([^\s:/?#[\]@]+))(?::(\d{1,5}))?([/?][^\s]*)?$/i.exec(uri);
  if (!match) return undefined;
  const parsed = target(match[1] ?? match[2] ?? '', match[3] ?? '80');
  if (!parsed) return undefined;
  const rest = match[4] ?? '/';
  return { ...parsed, path: rest.startsWith('?') ? `/${rest}` : rest };
}

/** The `Host` header value for a target: brackets around IPv6, the port unless it is the scheme's default. */
export function hostHeader(destination: ProxyTarget, defaultPort: number): string {
  const host = destination.host.includes(':') ? `[${destination.host}]` : destination.host;
  return destination.port === defaultPort ? host : `${host}:${destination.port}`;
}

function target(host: string, portText: string): ProxyTarget | undefined {
  const port = Number(portText);
  if (host === '' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}
