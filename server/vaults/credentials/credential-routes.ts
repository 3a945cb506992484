import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createCredentialBody, updateCredentialBody } from './credential-request-schemas';
import type { CredentialService } from './credential-service';
import { booleanQuery, pageQueryFields, toPageRequest } from '../../page-query';
import { parseOrThrow } from '../../validation';
import { withContract } from '../../openapi/route-contract';

const listQuery = z.object({ ...pageQueryFields, include_archived: booleanQuery.default(false) }).loose();

type VaultParams = { Params: { vaultId: string } };
type CredentialParams = { Params: { vaultId: string; credentialId: string } };

/**
 * The credentials of a vault, at the SDK's paths: create, retrieve, update, list, delete and archive. Request bodies
 * carry secrets: the server logs no request bodies (Fastify's logger is off) and no error message repeats a value.
 */
export function registerCredentialRoutes(app: FastifyInstance, credentials: CredentialService): void {
  const base = '/v1/vaults/:vaultId/credentials';

  app.post<VaultParams>(
    base,
    withContract({ summary: 'Create a credential.', body: createCredentialBody }),
    async (request) =>
      credentials.create(request.params.vaultId, parseOrThrow(createCredentialBody, request.body ?? {}, '')),
  );

  app.get<CredentialParams>(
    `${base}/:credentialId`,
    withContract({ summary: 'Retrieve a credential.' }),
    async (request) => credentials.retrieve(request.params.vaultId, request.params.credentialId),
  );

  app.post<CredentialParams>(
    `${base}/:credentialId`,
    withContract({ summary: 'Update a credential.', body: updateCredentialBody }),
    async (request) =>
      credentials.update(
        request.params.vaultId,
        request.params.credentialId,
        parseOrThrow(updateCredentialBody, request.body ?? {}, ''),
      ),
  );

  app.get<VaultParams>(
    base,
    withContract({ summary: "List a vault's credentials.", query: listQuery }),
    async (request) => {
      const query = parseOrThrow(listQuery, request.query, '');
      return credentials.list(request.params.vaultId, {
        ...toPageRequest(query),
        includeArchived: query.include_archived,
      });
    },
  );

  app.delete<CredentialParams>(
    `${base}/:credentialId`,
    withContract({ summary: 'Delete a credential.' }),
    async (request) => credentials.delete(request.params.vaultId, request.params.credentialId),
  );

  app.post<CredentialParams>(
    `${base}/:credentialId/archive`,
    withContract({ summary: 'Archive a credential.' }),
    async (request) => credentials.archive(request.params.vaultId, request.params.credentialId),
  );
}
