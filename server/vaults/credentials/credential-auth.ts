import type { CredentialSecretField } from '../../../common/credential-secret-context';
import { credentialSecretContext } from '../../../common/credential-secret-context';
import { sealSecret } from '../../../common/secret-box';
import { invalidField } from '../../api-error';
import type { CredentialAuthCreateParams, CredentialAuthUpdateParams } from './credential-request-schemas';
import type { CredentialAuthView, SealedCredentialSecrets, StoredCredential } from '../../store/control-plane-store';

/** A credential's `auth` split in two: what the API shows, and the secrets, already sealed. */
export interface SealedCredentialAuth {
  auth: CredentialAuthView;
  secrets: SealedCredentialSecrets;
}

/** Seals `plaintext` as the secret `field` of credential `credentialId`. */
type Sealer = (plaintext: string, field: CredentialSecretField) => string;

function sealerFor(key: Uint8Array, credentialId: string): Sealer {
  return (plaintext, field) => sealSecret(key, plaintext, credentialSecretContext(credentialId, field));
}

/** The `auth` of a new credential from validated params: plaintext secrets leave this function sealed. */
export function newCredentialAuth(
  params: CredentialAuthCreateParams,
  credentialId: string,
  key: Uint8Array,
): SealedCredentialAuth {
  const seal = sealerFor(key, credentialId);
  if (params.type === 'environment_variable') {
    const location = params.injection_location ?? {};
    const injection = { header: location.header ?? true, body: location.body ?? false };
    requireSomeLocation(injection);
    return {
      auth: {
        type: 'environment_variable',
        secret_name: params.secret_name,
        networking: params.networking,
        injection_location: injection,
      },
      secrets: { accessToken: seal(params.secret_value, 'access_token'), refreshToken: null, clientSecret: null },
    };
  }
  if (params.type === 'static_bearer') {
    return {
      auth: { type: 'static_bearer', mcp_server_url: params.mcp_server_url },
      secrets: { accessToken: seal(params.token, 'access_token'), refreshToken: null, clientSecret: null },
    };
  }
  const refresh = params.refresh ?? null;
  const endpointAuth = refresh?.token_endpoint_auth;
  return {
    auth: {
      type: 'mcp_oauth',
      mcp_server_url: params.mcp_server_url,
      expires_at: params.expires_at ?? null,
      refresh:
        refresh === null
          ? null
          : {
              client_id: refresh.client_id,
              token_endpoint: refresh.token_endpoint,
              token_endpoint_auth: { type: refresh.token_endpoint_auth.type },
              resource: refresh.resource ?? null,
              scope: refresh.scope || null,
            },
    },
    secrets: {
      accessToken: seal(params.access_token, 'access_token'),
      refreshToken: refresh === null ? null : seal(refresh.refresh_token, 'refresh_token'),
      clientSecret:
        endpointAuth === undefined || endpointAuth.type === 'none'
          ? null
          : seal(endpointAuth.client_secret, 'client_secret'),
    },
  };
}

/**
 * `current`'s `auth` with validated update params applied. The type cannot change; a secret or field left out (or
 * `null`) keeps its value, except `expires_at: null`, which makes the expiry unknown, and `refresh.scope: ''`, which
 * clears the scope. `refresh` changes need a credential created with `refresh`, and a new client secret one whose
 * token endpoint takes one.
 */
export function updatedCredentialAuth(
  current: StoredCredential,
  secrets: SealedCredentialSecrets,
  params: CredentialAuthUpdateParams,
  key: Uint8Array,
): SealedCredentialAuth {
  if (params.type !== current.auth.type) {
    throw invalidField('auth.type', `the credential is ${current.auth.type}; a credential's type cannot change`);
  }
  const seal = sealerFor(key, current.id);
  if (params.type === 'environment_variable' || current.auth.type === 'environment_variable') {
    if (params.type !== 'environment_variable' || current.auth.type !== 'environment_variable') {
      throw invalidField('auth.type', `the credential is ${current.auth.type}; a credential's type cannot change`);
    }
    if (params.secret_name !== undefined && params.secret_name !== current.auth.secret_name) {
      throw invalidField('auth.secret_name', 'is immutable; create a new credential for another variable name');
    }
    const change = params.injection_location ?? {};
    const injection = {
      header: change.header ?? current.auth.injection_location.header,
      body: change.body ?? current.auth.injection_location.body,
    };
    requireSomeLocation(injection);
    const value = params.secret_value;
    return {
      auth: {
        ...current.auth,
        networking: params.networking ?? current.auth.networking,
        injection_location: injection,
      },
      secrets: { ...secrets, ...(typeof value === 'string' ? { accessToken: seal(value, 'access_token') } : {}) },
    };
  }
  if (params.type === 'static_bearer' || current.auth.type === 'static_bearer') {
    const token = params.type === 'static_bearer' ? params.token : undefined;
    return {
      auth: current.auth,
      secrets: { ...secrets, ...(typeof token === 'string' ? { accessToken: seal(token, 'access_token') } : {}) },
    };
  }
  const next: SealedCredentialSecrets = { ...secrets };
  if (typeof params.access_token === 'string') next.accessToken = seal(params.access_token, 'access_token');
  let refresh = current.auth.refresh;
  const change = params.refresh ?? null;
  if (change !== null && Object.keys(change).length > 0) {
    if (refresh === null) {
      throw invalidField('auth.refresh', 'the credential was created without refresh; create a new one to add it');
    }
    if (typeof change.refresh_token === 'string') next.refreshToken = seal(change.refresh_token, 'refresh_token');
    if (typeof change.scope === 'string') refresh = { ...refresh, scope: change.scope || null };
    if (change.token_endpoint_auth !== undefined) {
      if (refresh.token_endpoint_auth.type === 'none') {
        throw invalidField(
          'auth.refresh.token_endpoint_auth',
          'the token endpoint of this credential takes no client authentication (none): there is no secret to change',
        );
      }
      const secret = change.token_endpoint_auth.client_secret;
      if (typeof secret === 'string') next.clientSecret = seal(secret, 'client_secret');
    }
  }
  return {
    auth: {
      ...current.auth,
      expires_at: params.expires_at === undefined ? current.auth.expires_at : params.expires_at,
      refresh,
    },
    secrets: next,
  };
}

/** Refuses an `injection_location` with no location enabled: the secret could then never be substituted. */
function requireSomeLocation(injection: { header: boolean; body: boolean }): void {
  if (!injection.header && !injection.body) {
    throw invalidField('auth.injection_location', 'at least one of header and body must be enabled');
  }
}
