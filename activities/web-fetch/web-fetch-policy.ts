import { isHostAllowed } from '../../common/network-policy';
import type { WebFetchInput } from '../../common/web-fetch';

/** The port a URL reaches: its explicit port, else the scheme's default. */
export function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/**
 * Why `web_fetch` must not fetch `url`, or `null` when it may: only http and https; then the session environment's
 * networking (`limited` reaches only its allowed hosts, none by default); then the tool config's `blockedDomains` and
 * `allowedDomains`. Checked for the first URL and again for every redirect target.
 */
export function webFetchRefusal(
  url: URL,
  input: Pick<WebFetchInput, 'networking' | 'allowedDomains' | 'blockedDomains'>,
): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `only http and https URLs can be fetched, not ${url.protocol.replace(/:$/, '')}.`;
  }
  const host = url.hostname.toLowerCase();
  const port = portOf(url);
  const { networking } = input;
  if (!isHostAllowed(networking, host, port)) {
    if (networking.type === 'limited' && networking.allowedHosts.length === 0) {
      return "the session's environment allows no network access (networking is limited, with no allowed hosts).";
    }
    return `${host}:${port} is not among the hosts the session's environment allows.`;
  }
  const blockedBy = input.blockedDomains?.find((entry) => domainMatches(host, entry));
  if (blockedBy !== undefined) return `${host} is blocked by the tool's blocked_domains (${blockedBy}).`;
  if (input.allowedDomains !== undefined && input.allowedDomains.length > 0) {
    if (!input.allowedDomains.some((entry) => domainMatches(host, entry))) {
      return `${host} is not in the tool's allowed_domains (${input.allowedDomains.join(', ')}).`;
    }
  }
  return null;
}

/**
 * Whether `host` is the domain of a tool-config entry or one of its subdomains, case-insensitively, as the hosted
 * tools treat `allowed_domains` and `blocked_domains`. An entry may carry a scheme, a leading `*.` or a path, which
 * are ignored.
 */
export function domainMatches(host: string, entry: string): boolean {
  const domain = entry
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/[/?#].*$/, '')
    .replace(/:\d+$/, '')
    .replace(/^\*?\./, '')
    .replace(/\.$/, '');
  if (domain === '') return false;
  const wanted = host.toLowerCase().replace(/\.$/, '');
  return wanted === domain || wanted.endsWith(`.${domain}`);
}
