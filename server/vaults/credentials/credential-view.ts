import type { BetaManagedAgentsCredential } from '@anthropic-ai/sdk/resources/beta/vaults/credentials';
import type { StoredCredential } from '../../store/control-plane-store';

/**
 * The credential object of the hosted API (`BetaManagedAgentsCredential`) for a stored credential. It is built from
 * the non-secret fields only: the sealed secrets are never read here, so no response can carry one.
 */
export function toCredentialView(credential: StoredCredential): BetaManagedAgentsCredential {
  const { auth } = credential;
  return {
    id: credential.id,
    type: 'vault_credential',
    vault_id: credential.vaultId,
    display_name: credential.displayName,
    metadata: credential.metadata,
    auth:
      auth.type === 'static_bearer'
        ? { type: 'static_bearer', mcp_server_url: auth.mcp_server_url }
        : auth.type === 'environment_variable'
          ? {
              type: 'environment_variable',
              secret_name: auth.secret_name,
              networking:
                auth.networking.type === 'limited'
                  ? { type: 'limited', allowed_hosts: [...auth.networking.allowed_hosts] }
                  : { type: 'unrestricted' },
              injection_location: { header: auth.injection_location.header, body: auth.injection_location.body },
            }
          : {
              type: 'mcp_oauth',
              mcp_server_url: auth.mcp_server_url,
              expires_at: auth.expires_at,
              refresh:
                auth.refresh === null
                  ? null
                  : {
                      client_id: auth.refresh.client_id,
                      token_endpoint: auth.refresh.token_endpoint,
                      token_endpoint_auth: { type: auth.refresh.token_endpoint_auth.type },
                      resource: auth.refresh.resource,
                      scope: auth.refresh.scope,
                    },
            },
    created_at: credential.createdAt,
    updated_at: credential.updatedAt,
    archived_at: credential.archivedAt,
  };
}
