import { repositoryTokenContext } from '../../../common/credential-secret-context';
import { sealSecret } from '../../../common/secret-box';
import { ApiError } from '../../api-error';
import type { RepositoryTokenRepository } from '../../store/control-plane-store';

/**
 * The server's side of repository tokens: it seals each `authorization_token` (AES-256-GCM under the secret key,
 * bound to the session and the resource) and stores it before the session's Workflow hears of the resource, so the
 * Workflow, its history, memo and events never hold one. Without a secret key, a token is refused with a 500.
 */
export class RepositoryTokens {
  constructor(
    private readonly store: RepositoryTokenRepository,
    private readonly secretKey: Uint8Array | undefined,
  ) {}

  /** Seals and stores the token of a resource, replacing the one it had. */
  async put(sessionId: string, resourceId: string, token: string): Promise<void> {
    if (this.secretKey === undefined) {
      throw new ApiError(
        'api_error',
        'This server has no secret key (KEEL_SECRET_KEY) to seal repository tokens with.',
      );
    }
    const sealed = sealSecret(this.secretKey, token, repositoryTokenContext(sessionId, resourceId));
    await this.store.put(sessionId, resourceId, sealed, new Date().toISOString());
  }

  /** Forgets a resource's token (the resource was deleted, or never reached the Workflow). */
  async delete(sessionId: string, resourceId: string): Promise<void> {
    await this.store.delete(sessionId, resourceId);
  }

  /** Forgets every token of a session (it was deleted, or never started). */
  async deleteSession(sessionId: string): Promise<void> {
    await this.store.deleteSession(sessionId);
  }
}
