import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import type { LookupFunction } from 'node:net';

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

/**
 * Addresses that reach this host itself or its cloud's metadata service: loopback, unspecified and link-local. An
 * allowed host *name* must not resolve to one (DNS rebinding would turn an allowed name into the worker's own Temporal
 * or API port); an allowed IP literal is the operator's explicit choice and is connected to as listed.
 */
const HOST_LOCAL_ADDRESSES = new BlockList();
HOST_LOCAL_ADDRESSES.addSubnet('0.0.0.0', 8, 'ipv4');
HOST_LOCAL_ADDRESSES.addSubnet('127.0.0.0', 8, 'ipv4');
HOST_LOCAL_ADDRESSES.addSubnet('169.254.0.0', 16, 'ipv4');
HOST_LOCAL_ADDRESSES.addSubnet('::', 128, 'ipv6');
HOST_LOCAL_ADDRESSES.addSubnet('::1', 128, 'ipv6');
HOST_LOCAL_ADDRESSES.addSubnet('fe80::', 10, 'ipv6');

/** Whether `address` (an IP literal) reaches this host itself or the link-local metadata service. */
export function isHostLocalAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped !== undefined) return HOST_LOCAL_ADDRESSES.check(mapped, 'ipv4');
  return HOST_LOCAL_ADDRESSES.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** Raised when a host is or resolves to an address an outbound request refuses to connect to. */
export class NonPublicAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    what = 'not a public internet address',
  ) {
    super(`${host} is or resolves to ${address}, which is ${what}`);
    this.name = 'NonPublicAddressError';
  }
}

/**
 * A DNS lookup for sockets that fails with `NonPublicAddressError` when any address of the host is `refused`. Used as
 * the socket's own lookup, so the address checked is the address connected to: a DNS answer that changes between a
 * check and the connection cannot slip through.
 */
export function refusingLookup(refused: (address: string) => boolean, what: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error !== null) {
        callback(error, '', 0);
        return;
      }
      const blocked = addresses.find((address) => refused(address.address));
      const first = addresses[0];
      if (blocked !== undefined) callback(new NonPublicAddressError(hostname, blocked.address, what), '', 0);
      else if (options.all === true) callback(null, addresses);
      else if (first === undefined) callback(new Error(`${hostname} has no address`), '', 0);
      else callback(null, first.address, first.family);
    });
  };
}

/** The lookup of `web_fetch` under unrestricted networking: public internet addresses only. */
export const publicOnlyLookup = refusingLookup(isNonPublicAddress, 'not a public internet address');

/** The lookup for an allowed host name under limited networking: anything but this host and link-local. */
export const notHostLocalLookup = refusingLookup(isHostLocalAddress, 'this host or link-local (refused for a name)');
