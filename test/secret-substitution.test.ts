import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { SandboxCa } from '../activities/sandbox/network/sandbox-ca';
import { substituteBody, substituteHeaders, substitutionsFor } from '../activities/sandbox/network/secret-substitution';
import type { SecretSubstitution } from '../common/credentials';

const limited: SecretSubstitution = {
  placeholder: 'keel_placeholder_aaaa',
  secret: 'sécret-1',
  allowedHosts: ['api.example.com', '*.example.org', '192.0.2.1'],
  header: true,
  body: false,
};
const open: SecretSubstitution = {
  placeholder: 'keel_placeholder_bbbb',
  secret: 'secret-2',
  allowedHosts: null,
  header: false,
  body: true,
};

describe('secret substitution (egress proxy)', () => {
  it('substitutionsFor: exact hosts (any case, trailing dot), subdomains for *. entries, unrestricted everywhere', () => {
    const names = (host: string) => substitutionsFor([limited, open], host).map((entry) => entry.placeholder);
    expect(names('API.Example.com.')).toEqual([limited.placeholder, open.placeholder]);
    expect(names('a.b.example.org')).toEqual([limited.placeholder, open.placeholder]);
    expect(names('example.org')).toEqual([open.placeholder]);
    expect(names('evil-api.example.com')).toEqual([open.placeholder]);
    expect(names('api.example.com.evil.test')).toEqual([open.placeholder]);
    expect(names('192.0.2.1')).toEqual([limited.placeholder, open.placeholder]);
  });

  it('substituteHeaders and substituteBody replace only in their locations, every occurrence, bytes kept', () => {
    const headers = substituteHeaders(
      { authorization: `Bearer ${limited.placeholder}`, 'x-both': [limited.placeholder, open.placeholder], n: 3 },
      [limited, open],
    );
    expect(headers).toEqual({
      authorization: `Bearer ${limited.secret}`,
      'x-both': [limited.secret, open.placeholder],
      n: 3,
    });
    const binary = Buffer.concat([
      Buffer.from([0xff, 0x00]),
      Buffer.from(`${open.placeholder}|${limited.placeholder}`),
    ]);
    const body = substituteBody(Buffer.concat([binary, Buffer.from(open.placeholder)]), [limited, open]);
    expect(body).toEqual(
      Buffer.concat([Buffer.from([0xff, 0x00]), Buffer.from(`${open.secret}|${limited.placeholder}${open.secret}`)]),
    );
    // A secret outside Latin-1 goes out as UTF-8.
    expect(substituteBody(Buffer.from(limited.placeholder), [{ ...limited, body: true }]).toString('utf8')).toBe(
      limited.secret,
    );
  });
});

describe('SandboxCa', () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'keel-sandbox-ca-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('makes one CA per data folder (key 0600), and host certificates it signed for names and IP addresses', () => {
    const ca = new SandboxCa(folder, undefined);
    const again = new SandboxCa(folder, undefined);
    expect(again.certificate).toBe(ca.certificate);
    expect(statSync(path.join(folder, 'sandbox-ca', 'ca.key')).mode & 0o777).toBe(0o600);
    const authority = new X509Certificate(ca.certificate);
    expect(authority.ca).toBe(true);
    for (const host of ['api.example.com', '127.0.0.1']) {
      const leaf = new X509Certificate(ca.leafFor(host).cert);
      expect(leaf.ca).toBe(false);
      expect(leaf.checkIssued(authority)).toBe(true);
      expect(leaf.verify(authority.publicKey)).toBe(true);
      expect(host.includes('.com') ? leaf.checkHost(host) : leaf.checkIP(host)).toBe(host);
    }
    expect(ca.leafFor('api.example.com')).toBe(ca.leafFor('api.example.com'));
  });
});
