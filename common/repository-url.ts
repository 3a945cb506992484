/** What `checkRepositoryUrl` says of a URL: the repository's name, or why Keel will not clone from it. */
export type RepositoryUrlCheck = { ok: true; name: string } | { ok: false; problem: string };

/** The host every Keel clones from without configuration. */
export const GITHUB_HOST = 'github.com';

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);
const SEGMENT = /^[A-Za-z0-9_.-]+$/;
const HOST = /^(\[::1\]|[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)(:\d{1,5})?$/;

/**
 * Whether Keel may clone the repository at `url`, and its name (the last path segment without `.git`, which names the
 * default mount path). Always allowed: `https://github.com/<owner>/<repo>[.git]`. Allowed besides: `https` URLs of the
 * hosts in `allowedHosts` (`host[:port]`, as `KEEL_REPOSITORY_HOSTS` lists them) whose path has an owner (or group)
 * and a repository, and `http` ones when the host is loopback, so a test or a mirror on the same machine needs no
 * certificate. A URL never carries credentials (they go in `authorization_token`), a query or a fragment.
 */
export function checkRepositoryUrl(url: string, allowedHosts: readonly string[]): RepositoryUrlCheck {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return refuse('expected a repository URL such as https://github.com/owner/repo');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return refuse(`expected an https URL, got ${parsed.protocol.replace(/:$/, '')}`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return refuse('must not carry credentials: send the token as authorization_token');
  }
  if (parsed.search !== '' || parsed.hash !== '') return refuse('must not have a query or a fragment');
  const segments = parsed.pathname.replace(/\/$/, '').split('/').slice(1);
  const name = segments.at(-1)?.replace(/\.git$/, '') ?? '';
  const wellFormed =
    segments.length >= 2 && segments.every((segment) => SEGMENT.test(segment)) && !['', '.', '..'].includes(name);
  if (parsed.host === GITHUB_HOST) {
    if (parsed.protocol !== 'https:') return refuse('GitHub repositories are cloned over https');
    if (!wellFormed || segments.length !== 2) return refuse('expected https://github.com/<owner>/<repo>[.git]');
    return { ok: true, name };
  }
  if (!allowedHosts.includes(parsed.host)) {
    return refuse(
      `${parsed.host} is not a repository host of this Keel: github.com is, and the hosts listed in KEEL_REPOSITORY_HOSTS`,
    );
  }
  if (parsed.protocol === 'http:' && !LOOPBACK_HOSTNAMES.has(parsed.hostname)) {
    return refuse('http is allowed only for a loopback host (127.0.0.1, localhost, ::1); use https');
  }
  if (!wellFormed) return refuse(`expected ${parsed.protocol}//${parsed.host}/<owner>/<repo>[.git]`);
  return { ok: true, name };
}

/**
 * Parses `KEEL_REPOSITORY_HOSTS`: `host[:port]` entries separated by commas, lower-cased; the problem of the first
 * entry that is not one (an IPv6 host only as `[::1]`).
 */
export function parseRepositoryHosts(value: string): { hosts: string[] } | { problem: string } {
  const hosts: string[] = [];
  for (const entry of value.split(',')) {
    const host = entry.trim().toLowerCase();
    if (host === '') continue;
    const port = /:(\d+)$/.exec(host)?.[1];
    if (!HOST.test(host) || (port !== undefined && (Number(port) < 1 || Number(port) > 65_535))) {
      return {
        problem: `expected host[:port] entries separated by commas, such as git.example.com:8443; got "${host}"`,
      };
    }
    hosts.push(host);
  }
  return { hosts };
}

function refuse(problem: string): RepositoryUrlCheck {
  return { ok: false, problem };
}
