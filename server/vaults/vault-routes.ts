import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { booleanQuery, pageQueryFields, toPageRequest } from '../page-query';
import { parseOrThrow } from '../validation';
import { createVaultBody, updateVaultBody } from './vault-request-schemas';
import type { VaultService } from './vault-service';
import { withContract } from '../openapi/route-contract';

const listQuery = z.object({ ...pageQueryFields, include_archived: booleanQuery.default(false) }).loose();

type VaultParams = { Params: { vaultId: string } };

/** The vault resource, at the SDK's paths: create, retrieve, update, list, delete and archive. */
export function registerVaultRoutes(app: FastifyInstance, vaults: VaultService): void {
  app.post('/v1/vaults', withContract({ summary: 'Create a vault.', body: createVaultBody }), async (request) =>
    vaults.create(parseOrThrow(createVaultBody, request.body ?? {}, '')),
  );

  app.get<VaultParams>('/v1/vaults/:vaultId', withContract({ summary: 'Retrieve a vault.' }), async (request) =>
    vaults.retrieve(request.params.vaultId),
  );

  app.post<VaultParams>(
    '/v1/vaults/:vaultId',
    withContract({ summary: 'Update a vault.', body: updateVaultBody }),
    async (request) => vaults.update(request.params.vaultId, parseOrThrow(updateVaultBody, request.body ?? {}, '')),
  );

  app.get('/v1/vaults', withContract({ summary: 'List vaults.', query: listQuery }), async (request) => {
    const query = parseOrThrow(listQuery, request.query, '');
    return vaults.list({ ...toPageRequest(query), includeArchived: query.include_archived });
  });

  app.delete<VaultParams>('/v1/vaults/:vaultId', withContract({ summary: 'Delete a vault.' }), async (request) =>
    vaults.delete(request.params.vaultId),
  );

  app.post<VaultParams>('/v1/vaults/:vaultId/archive', withContract({ summary: 'Archive a vault.' }), async (request) =>
    vaults.archive(request.params.vaultId),
  );
}
