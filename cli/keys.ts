import { randomBytes } from 'node:crypto';
import type { KeelConfig } from '../common/config';
import { ConfigError } from '../common/config';
import { DEFAULT_WORKSPACE_ID } from '../common/workspace';
import { apiKeySha256, newApiKey } from '../server/api-keys';
import { openControlPlaneStore } from '../server/store/open-control-plane-store';

/**
 * `keel keys create [name] [--workspace <name>] [--environment <env id>] [--admin]`, `keel keys list`,
 * `keel keys revoke <id>`:
 * API keys kept (as SHA-256 hashes) in the control-plane store, accepted besides `KEEL_API_KEY`. Each key acts in one
 * workspace (the default one unless `--workspace` names another, which is created if it does not exist): it sees that
 * workspace's agents, environments, files, vaults and sessions only. With `--environment`, the key is that self-hosted
 * environment's key (what the hosted Console calls an environment key), in the environment's workspace: it polls the
 * environment's work queue and serves its sessions, nothing else. A new key is printed once and never stored in clear.
 * With `--admin`, the key is an admin key: it may also use the Admin API (`/v1/organizations/workspaces`,
 * `/v1/organizations/api_keys`), as the configured key may. This command opens the store itself, so it works without
 * a running server (and makes the first admin key when `KEEL_API_KEY` is not at hand).
 */
export async function keys(config: KeelConfig, args: string[], write: (line: string) => void): Promise<number> {
  const admin = args.includes('--admin');
  const { values, positional } = parseFlags(
    args.filter((argument) => argument !== '--admin'),
    ['--environment', '--workspace'],
  );
  const environmentId = values.get('--environment');
  const workspaceName = values.get('--workspace');
  const [action, argument] = positional;
  const store = await openControlPlaneStore(config.database, config.dataDir);
  try {
    switch (action) {
      case 'create': {
        let workspaceId = DEFAULT_WORKSPACE_ID;
        if (workspaceName !== undefined) {
          const workspace = await store.workspaces.ensure({
            id: `wrkspc_${randomBytes(12).toString('hex')}`,
            name: workspaceName,
            createdAt: new Date().toISOString(),
          });
          workspaceId = workspace.id;
          if (workspace.archivedAt !== null) {
            throw new ConfigError(`keel keys create: workspace ${workspaceName} is archived`);
          }
        }
        if (environmentId !== undefined) {
          if (admin) throw new ConfigError('keel keys create: an environment key cannot be an admin key');
          const environment = await store.environments.get(environmentId);
          if (environment === null) throw new ConfigError(`keel keys create: no environment ${environmentId}`);
          if (environment.definition.config.type !== 'self_hosted') {
            throw new ConfigError(
              `keel keys create: environment ${environmentId} is not self_hosted; only a self-hosted environment has keys`,
            );
          }
          if (workspaceName !== undefined && environment.workspaceId !== workspaceId) {
            throw new ConfigError(
              `keel keys create: environment ${environmentId} is not in workspace ${workspaceName}`,
            );
          }
          workspaceId = environment.workspaceId;
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
          workspaceId,
          admin,
        });
        write(`${id} ${key}`);
        return 0;
      }
      case 'list': {
        const names = new Map((await store.workspaces.list()).map((workspace) => [workspace.id, workspace.name]));
        for (const key of await store.apiKeys.list()) {
          const scope =
            key.environmentId === null ? (key.admin ? '  (admin)' : '') : `  (environment ${key.environmentId})`;
          const workspace = `workspace ${names.get(key.workspaceId) ?? key.workspaceId}`;
          write(`${key.id}  ${key.status.padEnd(8)}  ${key.createdAt}  ${workspace}  ${key.name}${scope}`);
        }
        return 0;
      }
      case 'revoke':
        if (argument === undefined) throw new ConfigError('keel keys revoke: give the key id (apikey_…)');
        if (!(await store.apiKeys.revoke(argument, new Date().toISOString()))) {
          throw new ConfigError(`keel keys revoke: no active key ${argument}`);
        }
        write(`revoked ${argument}`);
        return 0;
      default:
        throw new ConfigError(
          'keel keys: use `keel keys create [name] [--workspace <name>] [--environment <env id>] [--admin]`, ' +
            '`keel keys list` or ' +
            '`keel keys revoke <id>`',
        );
    }
  } finally {
    await store.close();
  }
}

/** The values of `flags` (each followed by its value) and the other arguments, in order. */
function parseFlags(args: string[], flags: readonly string[]): { values: Map<string, string>; positional: string[] } {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const argument = args[index] ?? '';
    if (!flags.includes(argument)) {
      positional.push(argument);
      continue;
    }
    const value = args[index + 1];
    if (value === undefined || value.startsWith('--') || value === '') {
      throw new ConfigError(`keel keys create: ${argument} needs a value`);
    }
    values.set(argument, value);
    index += 1;
  }
  return { values, positional };
}
