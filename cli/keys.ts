import { randomBytes } from 'node:crypto';
import type { KeelConfig } from '../common/config';
import { ConfigError } from '../common/config';
import { apiKeySha256, newApiKey } from '../server/api-keys';
import { openControlPlaneStore } from '../server/store/open-control-plane-store';

/**
 * `keel keys create [name] [--environment <env id>]`, `keel keys list`, `keel keys revoke <id>`: API keys kept (as
 * SHA-256 hashes) in the control-plane store, accepted besides `KEEL_API_KEY`. With `--environment`, the key is that
 * self-hosted environment's key (what the hosted Console calls an environment key): it polls the environment's work
 * queue and serves its sessions, nothing else. A new key is printed once and never stored in clear.
 */
export async function keys(config: KeelConfig, args: string[], write: (line: string) => void): Promise<number> {
  const environmentFlag = args.indexOf('--environment');
  const environmentId = environmentFlag >= 0 ? args[environmentFlag + 1] : undefined;
  if (environmentFlag >= 0 && (environmentId === undefined || environmentId.startsWith('--'))) {
    throw new ConfigError('keel keys create: --environment needs an environment id (env_…)');
  }
  const positional =
    environmentFlag < 0 ? args : args.filter((_, index) => index !== environmentFlag && index !== environmentFlag + 1);
  const [action, argument] = positional;
  const store = await openControlPlaneStore(config.database, config.dataDir);
  try {
    switch (action) {
      case 'create': {
        if (environmentId !== undefined) {
          const environment = await store.environments.get(environmentId);
          if (environment === null) throw new ConfigError(`keel keys create: no environment ${environmentId}`);
          if (environment.definition.config.type !== 'self_hosted') {
            throw new ConfigError(
              `keel keys create: environment ${environmentId} is not self_hosted; only a self-hosted environment has keys`,
            );
          }
        }
        const key = newApiKey();
        const id = `apikey_${randomBytes(8).toString('hex')}`;
        await store.apiKeys.insert({
          id,
          keySha256: apiKeySha256(key),
          name: argument ?? 'unnamed',
          createdAt: new Date().toISOString(),
          revokedAt: null,
          environmentId: environmentId ?? null,
        });
        write(`${id} ${key}`);
        return 0;
      }
      case 'list':
        for (const key of await store.apiKeys.list()) {
          const scope = key.environmentId === null ? '' : `  (environment ${key.environmentId})`;
          write(`${key.id}  ${key.revokedAt === null ? 'active ' : 'revoked'}  ${key.createdAt}  ${key.name}${scope}`);
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
        throw new ConfigError(
          'keel keys: use `keel keys create [name] [--environment <env id>]`, `keel keys list` or `keel keys revoke <id>`',
        );
    }
  } finally {
    await store.close();
  }
}
