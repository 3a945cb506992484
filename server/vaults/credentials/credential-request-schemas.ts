import { z } from 'zod';
import { requestBody } from '../../request-body';
import { environmentVariableCreate, environmentVariableUpdate } from './environment-variable-schemas';

// Messages here never repeat the value they check: several of these fields are secrets.

/** An `http` or `https` URL without user info (credentials belong in the vault, not in a URL). */
const httpUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'expected an http or https URL without user info, such as https://mcp.example.com/mcp');

/** A token sent as `Authorization: Bearer <token>`: visible ASCII, no spaces, so it cannot break the header. */
const bearerToken = z
  .string()
  .min(1, 'must not be empty')
  .max(16_384, 'must be at most 16384 characters')
  .regex(/^[\x21-\x7E]+$/, 'expected visible ASCII characters without spaces');

/** An OAuth client secret: sent form-encoded, so any text without control characters. */
const clientSecret = z
  .string()
  .min(1, 'must not be empty')
  .max(4096, 'must be at most 4096 characters')
  .refine((value) => !/[\p{Cc}]/u.test(value), 'must not contain control characters');

/** An RFC 3339 time in the future, turned into the store's normal form. */
const futureTime = z.iso
  .datetime({ offset: true, error: 'expected an RFC 3339 time such as 2026-04-01T00:00:00Z' })
  .refine((value) => Date.parse(value) > Date.now(), 'must be in the future')
  .transform((value) => new Date(value).toISOString());

const scope = z.string().max(1024, 'must be at most 1024 characters');
const displayName = z.string().max(255, 'must be at most 255 characters');
const unsupportedAuthType = 'expected static_bearer, mcp_oauth or environment_variable';
const authError = (issue: { code: string }) =>
  issue.code === 'invalid_type' ? 'expected an object' : unsupportedAuthType;

const tokenEndpointAuthCreate = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('none') }).strict(),
    z.object({ type: z.literal('client_secret_basic'), client_secret: clientSecret }).strict(),
    z.object({ type: z.literal('client_secret_post'), client_secret: clientSecret }).strict(),
  ],
  { error: 'expected none, client_secret_basic or client_secret_post' },
);

/** `auth.refresh` of a new `mcp_oauth` credential (`BetaManagedAgentsMCPOAuthRefreshParams`). */
const refreshCreate = z
  .object({
    client_id: z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters'),
    refresh_token: bearerToken,
    token_endpoint: httpUrl,
    token_endpoint_auth: tokenEndpointAuthCreate,
    resource: httpUrl.nullable().optional(),
    scope: scope.nullable().optional(),
  })
  .strict();

/** `auth` of a new credential: `static_bearer`, `mcp_oauth` or `environment_variable`. */
const authCreate = z.discriminatedUnion(
  'type',
  [
    environmentVariableCreate,
    z.object({ type: z.literal('static_bearer'), token: bearerToken, mcp_server_url: httpUrl }).strict(),
    z
      .object({
        type: z.literal('mcp_oauth'),
        access_token: bearerToken,
        mcp_server_url: httpUrl,
        expires_at: futureTime.nullable().optional(),
        refresh: refreshCreate.nullable().optional(),
      })
      .strict(),
  ],
  { error: authError },
);

/** A new client secret; the credential keeps its `token_endpoint_auth` type, as the SDK documents. */
const tokenEndpointAuthUpdate = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('client_secret_basic'), client_secret: clientSecret.nullable().optional() }).strict(),
    z.object({ type: z.literal('client_secret_post'), client_secret: clientSecret.nullable().optional() }).strict(),
  ],
  { error: 'expected client_secret_basic or client_secret_post' },
);

/**
 * `auth` of an update: the type must be the credential's own; `mcp_server_url`, `client_id` and `secret_name` cannot
 * change.
 */
const authUpdate = z.discriminatedUnion(
  'type',
  [
    environmentVariableUpdate,
    z.object({ type: z.literal('static_bearer'), token: bearerToken.nullable().optional() }).strict(),
    z
      .object({
        type: z.literal('mcp_oauth'),
        access_token: bearerToken.nullable().optional(),
        expires_at: futureTime.nullable().optional(),
        refresh: z
          .object({
            refresh_token: bearerToken.nullable().optional(),
            scope: scope.nullable().optional(),
            token_endpoint_auth: tokenEndpointAuthUpdate.optional(),
          })
          .strict()
          .nullable()
          .optional(),
      })
      .strict(),
  ],
  { error: authError },
);

/** The body of `POST /v1/vaults/{vault_id}/credentials` (`CredentialCreateParams`). */
export const createCredentialBody = requestBody({
  auth: authCreate,
  display_name: displayName.nullable().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

/** The body of `POST /v1/vaults/{vault_id}/credentials/{credential_id}` (`CredentialUpdateParams`). */
export const updateCredentialBody = requestBody({
  auth: authUpdate.optional(),
  display_name: displayName.min(1, 'must be 1 to 255 characters').nullable().optional(),
  metadata: z.record(z.string(), z.string().nullable()).nullable().optional(),
});

/** A parsed create body. */
export type CreateCredentialBody = z.infer<typeof createCredentialBody>;

/** A parsed update body. */
export type UpdateCredentialBody = z.infer<typeof updateCredentialBody>;

/** A parsed create `auth`. */
export type CredentialAuthCreateParams = CreateCredentialBody['auth'];

/** A parsed update `auth`. */
export type CredentialAuthUpdateParams = NonNullable<UpdateCredentialBody['auth']>;
