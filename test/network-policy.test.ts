import { describe, expect, it } from 'vitest';

import { parseAbsoluteHttpUri, parseConnectAuthority } from '../activities/sandbox/network/proxy-target';
import { isHostAllowed, sandboxNetworkAccess } from '../common/network-policy';
import type { SandboxNetworking } from '../common/sandbox';

const limited = (allowedHosts: string[], allowPackageManagers = false): SandboxNetworking => ({
  type: 'limited',
  allowedHosts,
  allowPackageManagers,
  allowMcpServers: false,
});

describe('isHostAllowed', () => {
  it('isHostAllowed: unrestricted allows any host and port', () => {
    expect(isHostAllowed({ type: 'unrestricted' }, 'example.com', 443)).toBe(true);
    expect(isHostAllowed({ type: 'unrestricted' }, '203.0.113.9', 1)).toBe(true);
  });

  it('isHostAllowed: limited with no hosts allows nothing', () => {
    expect(isHostAllowed(limited([]), 'example.com', 443)).toBe(false);
  });

  it('isHostAllowed: an exact entry matches its host on any port, case-insensitively, and nothing else', () => {
    const networking = limited(['Example.COM']);
    expect(isHostAllowed(networking, 'example.com', 443)).toBe(true);
    expect(isHostAllowed(networking, 'EXAMPLE.com.', 8080)).toBe(true);
    expect(isHostAllowed(networking, 'api.example.com', 443)).toBe(false);
    expect(isHostAllowed(networking, 'example.com.evil.test', 443)).toBe(false);
    expect(isHostAllowed(networking, 'notexample.com', 443)).toBe(false);
  });

  it('isHostAllowed: an entry with a port matches that port only', () => {
    const networking = limited(['example.com:8443', '[2001:db8::1]:443', '198.51.100.7:80']);
    expect(isHostAllowed(networking, 'example.com', 8443)).toBe(true);
    expect(isHostAllowed(networking, 'example.com', 443)).toBe(false);
    expect(isHostAllowed(networking, '2001:db8::1', 443)).toBe(true);
    expect(isHostAllowed(networking, '[2001:db8::1]', 80)).toBe(false);
    expect(isHostAllowed(networking, '198.51.100.7', 80)).toBe(true);
    expect(isHostAllowed(networking, '198.51.100.7', 81)).toBe(false);
  });

  it('isHostAllowed: *.domain matches subdomains at any depth but not the domain itself', () => {
    const networking = limited(['*.example.com']);
    expect(isHostAllowed(networking, 'api.example.com', 443)).toBe(true);
    expect(isHostAllowed(networking, 'a.b.example.com', 443)).toBe(true);
    expect(isHostAllowed(networking, 'example.com', 443)).toBe(false);
    expect(isHostAllowed(networking, 'badexample.com', 443)).toBe(false);
  });

  it('isHostAllowed: a scheme and path around an entry are ignored; malformed entries match nothing', () => {
    expect(isHostAllowed(limited(['https://example.com/docs']), 'example.com', 443)).toBe(true);
    expect(isHostAllowed(limited(['example.com:0', 'example.com:http', '*', '']), 'example.com', 443)).toBe(false);
  });

  it('isHostAllowed: allowPackageManagers adds the package registries only', () => {
    const networking = limited([], true);
    for (const host of ['deb.debian.org', 'pypi.org', 'files.pythonhosted.org', 'registry.npmjs.org']) {
      expect(isHostAllowed(networking, host, 443)).toBe(true);
    }
    expect(isHostAllowed(networking, 'github.com', 443)).toBe(false);
    expect(isHostAllowed(limited([]), 'pypi.org', 443)).toBe(false);
  });

  it('isHostAllowed: a port outside 1..65535 is never allowed', () => {
    expect(isHostAllowed({ type: 'unrestricted' }, 'example.com', 0)).toBe(false);
    expect(isHostAllowed(limited(['example.com']), 'example.com', 70000)).toBe(false);
  });
});

describe('sandboxNetworkAccess', () => {
  it('sandboxNetworkAccess: none without hosts or registries, open when unrestricted, proxied otherwise', () => {
    expect(sandboxNetworkAccess(limited([]))).toBe('none');
    const mcpOnly: SandboxNetworking = {
      type: 'limited',
      allowedHosts: [],
      allowPackageManagers: false,
      allowMcpServers: true,
    };
    expect(sandboxNetworkAccess(mcpOnly)).toBe('none');
    expect(sandboxNetworkAccess(limited([], true))).toBe('proxied');
    expect(sandboxNetworkAccess(limited(['example.com']))).toBe('proxied');
    expect(sandboxNetworkAccess({ type: 'unrestricted' })).toBe('open');
  });
});

describe('proxy targets', () => {
  it('parseConnectAuthority: host:port and [v6]:port, nothing else', () => {
    expect(parseConnectAuthority('example.com:443')).toEqual({ host: 'example.com', port: 443 });
    expect(parseConnectAuthority('[2001:db8::1]:8443')).toEqual({ host: '2001:db8::1', port: 8443 });
    expect(parseConnectAuthority('example.com')).toBeUndefined();
    expect(parseConnectAuthority('user@example.com:443')).toBeUndefined();
    expect(parseConnectAuthority('example.com:99999')).toBeUndefined();
  });

  it('parseAbsoluteHttpUri: absolute http URIs with default port 80; https and relative paths are refused', () => {
    expect(parseAbsoluteHttpUri('http://Example.com/a?b=1')).toEqual({ host: 'Example.com', port: 80, path: '/a?b=1' });
    expect(parseAbsoluteHttpUri('http://198.51.100.2:8080')).toEqual({ host: '198.51.100.2', port: 8080, path: '/' });
    expect(parseAbsoluteHttpUri('http://[::1]:81/x')).toEqual({ host: '::1', port: 81, path: '/x' });
    expect(parseAbsoluteHttpUri('https://example.com/')).toBeUndefined();
    expect(parseAbsoluteHttpUri('/relative')).toBeUndefined();
  });
});
