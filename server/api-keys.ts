import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { DEFAULT_WORKSPACE_ID } from '../common/workspace';
import { ApiError } from './api-error';
import type { ApiKeyRepository } from './store/control-plane-store';

/** The SHA-256 of an API key, as the store keeps it. */
export function apiKeySha256(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A new random API key, in the form `keel up` generates. */
export function newApiKey(): string {
  return `keel_${randomBytes(24).toString('base64url')}`;
}

/**
 * Who a request acts as: an API key, or a self-hosted environment's key (its work queue and sessions only), each in
 * one workspace, whose resources and sessions alone it sees. An admin API key may also use the Admin API
 * (`/v1/organizations/…`), which is not workspace-scoped.
 */
export type Principal =
  | {
      kind: 'api';
      workspaceId: string;
      admin: boolean;
      /** The stored key's id (`apikey_…`); absent for the configured key. */
      keyId?: string;
    }
  | { kind: 'environment'; environmentId: string; workspaceId: string };

/**
 * Who `given` authenticates, or `null` when the server does not accept it: the configured key (compared in constant
 * time), which acts in the default workspace and is an admin key, or an active key in the control-plane store (looked
 * up by its hash), which acts in its own workspace and may be an admin key or an environment key.
 */
export async function authenticate(
  given: string,
  configured: string,
  keys: ApiKeyRepository,
): Promise<Principal | null> {
  if (given === '') return null;
  const givenBytes = Buffer.from(given);
  const configuredBytes = Buffer.from(configured);
  if (givenBytes.length === configuredBytes.length && timingSafeEqual(givenBytes, configuredBytes)) {
    return { kind: 'api', workspaceId: DEFAULT_WORKSPACE_ID, admin: true };
  }
  const stored = await keys.findActive(apiKeySha256(given));
  if (stored === null) return null;
  const { workspaceId } = stored;
  return stored.environmentId === null
    ? { kind: 'api', workspaceId, admin: stored.admin, keyId: stored.id }
    : { kind: 'environment', environmentId: stored.environmentId, workspaceId };
}

/** The principal the authentication hook gave a request; a request without one was not authenticated (401). */
export function principalOf(request: { principal: Principal | null }): Principal {
  if (request.principal === null) throw new ApiError('authentication_error', 'The request was not authenticated.');
  return request.principal;
}

/** Throws a 403 `permission_error` unless the request's key is an admin key (the Admin API's routes call it first). */
export function requireAdmin(request: { principal: Principal | null }): void {
  const principal = principalOf(request);
  if (principal.kind !== 'api' || !principal.admin) {
    throw new ApiError('permission_error', 'This API key is not an admin key: the Admin API needs one.');
  }
}
