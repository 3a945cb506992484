/** The secret fields of a vault credential, each stored sealed in the column of the same name. */
export type CredentialSecretField = 'access_token' | 'refresh_token' | 'client_secret';

/**
 * The additional authenticated data a credential's secret is sealed with (see `sealSecret`): the credential id and the
 * field. The server, which writes credentials, and the worker's resolver, which reads and refreshes them, must agree
 * on it; binding it means a sealed value copied to another credential or column does not open there.
 */
export function credentialSecretContext(credentialId: string, field: CredentialSecretField): string {
  return `keel.vault_credential.${credentialId}.${field}`;
}

/**
 * The additional authenticated data a `github_repository` resource's token is sealed with: the session and the
 * resource. The server seals it, the worker's clone Activity opens it; a sealed token copied to another row does not
 * open there.
 */
export function repositoryTokenContext(sessionId: string, resourceId: string): string {
  return `keel.repository_token.${sessionId}.${resourceId}`;
}
