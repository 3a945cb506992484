import { randomBytes } from 'node:crypto';
import type { KeelConfig } from '../common/config';
import { ConfigError } from '../common/config';
import { apiKeySha256, newApiKey } from '../server/api-keys';
import { openSqliteStore, storeFilePath } from '../server/store/open-sqlite-store';

/**
 * `keel keys create [name]`, `keel keys list`, `keel keys revoke <id>`: API keys kept (as SHA-256 hashes) in the
 * control-plane store, accepted besides `KEEL_API_KEY`. A new key is printed once and never stored in clear.
 */
export async function keys(config: KeelConfig, args: string[], write: (line: string) => void): Promise<number> {
  const [action, argument] = args;
  const store = openSqliteStore({ filename: storeFilePath(config.dataDir) });
  try {
    switch (action) {
      case 'create': {
        const key = newApiKey();
        const id = `apikey_${randomBytes(8).toString('hex')}`;
        await store.apiKeys.insert({
          id,
          keySha256: apiKeySha256(key),
          name: argument ?? 'unnamed',
          createdAt: new Date().toISOString(),
          revokedAt: null,
        });
        write(`${id} ${key}`);
        return 0;
      }
      case 'list':
        for (const key of await store.apiKeys.list()) {
          write(`${key.id}  ${key.revokedAt === null ? 'active ' : 'revoked'}  ${key.createdAt}  ${key.name}`);
        }
        return 0;
      case 'revoke':
        if (argument === undefined) throw new ConfigError('keel keys revoke: give the key id (apikey_…)');
        if (!(await store.apiKeys.revoke(argument, new Date().toISOString()))) {
          throw new ConfigError(`keel keys revoke: no active key ${argument}`);
        }
        write(`revoked ${argument}`);
        return 0;
      default:
        throw new ConfigError('keel keys: use `keel keys create [name]`, `keel keys list` or `keel keys revoke <id>`');
    }
  } finally {
    await store.close();
  }
}
