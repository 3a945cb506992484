import type { FastifyInstance } from 'fastify';
import type { CredentialValidationService } from './credential-validation-service';
import { withContract } from '../../openapi/route-contract';

type CredentialParams = { Params: { vaultId: string; credentialId: string } };

/**
 * `POST /v1/vaults/{vault_id}/credentials/{credential_id}/mcp_oauth_validate`, the SDK's
 * `vaults.credentials.mcpOAuthValidate`: live-probes an `mcp_oauth` credential against its MCP server. It takes no
 * body; the answer never carries a token.
 */
export function registerCredentialValidationRoutes(
  app: FastifyInstance,
  validation: CredentialValidationService,
): void {
  app.post<CredentialParams>(
    '/v1/vaults/:vaultId/credentials/:credentialId/mcp_oauth_validate',
    withContract({ summary: 'Validate an mcp_oauth credential against its MCP server.' }),
    async (request) => validation.validate(request.params.vaultId, request.params.credentialId),
  );
}
