import { BlockList, isIP } from 'node:net';

/**
 * Addresses that are not on the public internet: this host, private networks, link-local (where cloud metadata
 * services answer), carrier-grade NAT, NAT64, documentation, benchmarking, multicast and reserved ranges.
 */
const NON_PUBLIC_ADDRESSES = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC_ADDRESSES.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC_ADDRESSES.addSubnet(network, prefix, 'ipv6');
}

/**
 * IPv4 mapped into IPv6 (`::ffff:a.b.c.d`), refused as a whole: a public site has no reason to be reached that way.
 * It lives in its own list because a `BlockList` matches IPv4 checks against this IPv6 range too.
 */
const IPV4_MAPPED_ADDRESSES = new BlockList();
IPV4_MAPPED_ADDRESSES.addSubnet('::ffff:0:0', 96, 'ipv6');

/** Whether `address` (an IPv4 or IPv6 literal, brackets allowed) is outside the public internet. */
export function isNonPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 0) return false;
  if (family === 6 && IPV4_MAPPED_ADDRESSES.check(bare, 'ipv6')) return true;
  return NON_PUBLIC_ADDRESSES.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** Raised when a host is or resolves to a non-public address that `web_fetch` refuses to connect to. */
export class NonPublicAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`${host} is or resolves to ${address}, which is not a public internet address`);
    this.name = 'NonPublicAddressError';
  }
}
