import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSecretKey, secretKeyFile } from '../activities/credentials/secret-key-file';
import { ConfigError, parseConfig } from '../common/config';
import { credentialSecretContext } from '../common/credential-secret-context';
import { decodeSecretKey, generateSecretKey, openSecret, sealSecret, SecretBoxError } from '../common/secret-box';
import { CredentialService } from '../server/vaults/credentials/credential-service';
import { openSqliteStore, storeFilePath } from '../server/store/open-sqlite-store';
import type { SqliteStore } from '../server/store/open-sqlite-store';
import { VaultService } from '../server/vaults/vault-service';

let dataDir: string;
const opened: SqliteStore[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'keel-vault-secrets-'));
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('secret box (AES-256-GCM)', () => {
  it('sealSecret / openSecret: a round trip works, and a wrong key, context or changed byte does not open', () => {
    const key = generateSecretKey();
    const sealed = sealSecret(key, 'token-plaintext-1', 'context-a');
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('token-plaintext-1');
    expect(sealSecret(key, 'token-plaintext-1', 'context-a')).not.toBe(sealed);
    expect(openSecret(key, sealed, 'context-a')).toBe('token-plaintext-1');
    expect(() => openSecret(generateSecretKey(), sealed, 'context-a')).toThrow(SecretBoxError);
    expect(() => openSecret(key, sealed, 'context-b')).toThrow(SecretBoxError);
    const [format, iv, ciphertext, tag] = sealed.split('.') as [string, string, string, string];
    const flipped = `${ciphertext.startsWith('A') ? 'B' : 'A'}${ciphertext.slice(1)}`;
    expect(() => openSecret(key, [format, iv, flipped, tag].join('.'), 'context-a')).toThrow(SecretBoxError);
    expect(() => openSecret(key, 'plaintext', 'context-a')).toThrow(SecretBoxError);
  });

  it('KEEL_SECRET_KEY: the base64 of 32 bytes is the key; anything else stops start-up naming the variable only', () => {
    const key = generateSecretKey();
    const base64 = Buffer.from(key).toString('base64');
    expect(parseConfig({ KEEL_SECRET_KEY: base64 }).secretKey).toEqual(key);
    expect(parseConfig({ KEEL_SECRET_KEY: '' }).secretKey).toBeUndefined();
    for (const bad of ['not-base64-at-all!', Buffer.alloc(16).toString('base64'), `${base64}AAAA`]) {
      let error: unknown;
      try {
        parseConfig({ KEEL_SECRET_KEY: bad });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('KEEL_SECRET_KEY: expected the base64 of 32 random bytes');
      expect((error as Error).message).not.toContain(bad);
    }
    expect(decodeSecretKey(` ${base64}\n`)).toEqual(key);
  });
});

describe('secret key file in the data folder', () => {
  it('resolveSecretKey: the configured key wins; else secret.key is created once, mode 0600, and read after', () => {
    const configured = generateSecretKey();
    expect(resolveSecretKey(configured, dataDir)).toBe(configured);
    expect(existsSync(secretKeyFile(dataDir))).toBe(false);

    const nested = path.join(dataDir, 'nested', 'data');
    const created = resolveSecretKey(undefined, nested);
    expect(created).toHaveLength(32);
    expect(statSync(secretKeyFile(nested)).mode & 0o777).toBe(0o600);
    expect(resolveSecretKey(undefined, nested)).toEqual(created);
    expect(readdirSync(nested)).toEqual(['secret.key']);
  });

  it('resolveSecretKey: processes racing on an empty data folder all end up with the same key', async () => {
    const script = `
      const { resolveSecretKey } = require(${JSON.stringify(path.resolve('activities/credentials/secret-key-file.ts'))});
      process.stdout.write(Buffer.from(resolveSecretKey(undefined, ${JSON.stringify(dataDir)})).toString('hex'));
    `;
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        let errors = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
        child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(errors))));
      });
    const keys = await Promise.all([run(), run(), run(), run()]);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toHaveLength(64);
    expect(readdirSync(dataDir)).toEqual(['secret.key']);
  });

  it('resolveSecretKey: a secret.key that holds no key stops start-up and is left as it is', () => {
    writeFileSync(secretKeyFile(dataDir), 'garbage\n');
    expect(() => resolveSecretKey(undefined, dataDir)).toThrow(/does not hold a secret key/);
    expect(readFileSync(secretKeyFile(dataDir), 'utf8')).toBe('garbage\n');
  });
});

describe('vault secrets at rest', () => {
  it('no plaintext secret is in any row or column of the SQLite file, nor anywhere in its bytes (WAL included)', async () => {
    const key = generateSecretKey();
    const store = openSqliteStore({ filename: storeFilePath(dataDir) });
    opened.push(store);
    const vaults = new VaultService(store);
    const credentials = new CredentialService(store, vaults, key);
    const vault = await vaults.create({ display_name: 'at rest' });
    const secrets = {
      bearer: 'plain-bearer-9f8e7d6c5b4a',
      access: 'plain-access-1a2b3c4d5e6f',
      refresh: 'plain-refresh-0a9b8c7d6e5f',
      clientSecret: 'plain-client-secret-f1e2d3c4',
      newAccess: 'plain-new-access-77aa88bb',
    };
    const bearer = await credentials.create(vault.id, {
      auth: { type: 'static_bearer', token: secrets.bearer, mcp_server_url: 'https://one.example.com/mcp' },
    });
    const oauth = await credentials.create(vault.id, {
      display_name: 'oauth',
      auth: {
        type: 'mcp_oauth',
        access_token: secrets.access,
        mcp_server_url: 'https://two.example.com/mcp',
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        refresh: {
          client_id: 'client-one',
          refresh_token: secrets.refresh,
          token_endpoint: 'https://auth.example.com/token',
          token_endpoint_auth: { type: 'client_secret_post', client_secret: secrets.clientSecret },
        },
      },
    });
    await credentials.update(vault.id, oauth.id, { auth: { type: 'mcp_oauth', access_token: secrets.newAccess } });
    for (const view of [bearer, oauth, await credentials.retrieve(vault.id, oauth.id)]) {
      for (const secret of Object.values(secrets)) expect(JSON.stringify(view)).not.toContain(secret);
    }

    const database = new Database(storeFilePath(dataDir), { readonly: true });
    try {
      const tables = database
        .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((row) => row.name);
      expect(tables).toEqual(expect.arrayContaining(['vaults', 'vault_credentials']));
      let cells = 0;
      for (const table of tables) {
        for (const row of database.prepare<[], Record<string, unknown>>(`SELECT * FROM "${table}"`).all()) {
          for (const value of Object.values(row)) {
            cells += 1;
            const text = Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
            for (const secret of Object.values(secrets)) expect(text).not.toContain(secret);
          }
        }
      }
      expect(cells).toBeGreaterThan(20);
      const stored = database
        .prepare<[string], { access_token: string; refresh_token: string; client_secret: string }>(
          'SELECT access_token, refresh_token, client_secret FROM vault_credentials WHERE id = ?',
        )
        .get(oauth.id);
      expect(openSecret(key, stored!.access_token, credentialSecretContext(oauth.id, 'access_token'))).toBe(
        secrets.newAccess,
      );
      expect(openSecret(key, stored!.refresh_token, credentialSecretContext(oauth.id, 'refresh_token'))).toBe(
        secrets.refresh,
      );
      expect(openSecret(key, stored!.client_secret, credentialSecretContext(oauth.id, 'client_secret'))).toBe(
        secrets.clientSecret,
      );
    } finally {
      database.close();
    }

    const files = readdirSync(dataDir).filter((name) => name.startsWith('keel.sqlite'));
    expect(files).toContain('keel.sqlite');
    for (const name of files) {
      const bytes = readFileSync(path.join(dataDir, name));
      for (const secret of Object.values(secrets)) {
        for (const encoding of ['utf8', 'utf16le'] as const) {
          expect(bytes.includes(Buffer.from(secret, encoding)), `${secret} (${encoding}) in ${name}`).toBe(false);
        }
      }
    }
  });

  it('archiving a credential erases its sealed secrets; deleting a vault removes its credentials', async () => {
    const store = openSqliteStore({ filename: storeFilePath(dataDir) });
    opened.push(store);
    const vaults = new VaultService(store);
    const credentials = new CredentialService(store, vaults, generateSecretKey());
    const vault = await vaults.create({ display_name: 'erase' });
    const created = await credentials.create(vault.id, {
      auth: { type: 'static_bearer', token: 'to-be-erased', mcp_server_url: 'https://erase.example.com/mcp' },
    });
    await credentials.archive(vault.id, created.id);
    expect((await store.credentials.get(vault.id, created.id))?.secrets).toBeNull();
    await vaults.delete(vault.id);
    const database = new Database(storeFilePath(dataDir), { readonly: true });
    try {
      expect(database.prepare('SELECT count(*) AS count FROM vault_credentials').get()).toEqual({ count: 0 });
    } finally {
      database.close();
    }
  });
});
