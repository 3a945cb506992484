import { z } from 'zod';

// Messages here never repeat the value they check: secret_value is a secret.

/** Most entries `networking.allowed_hosts` of a credential may list, as the SDK documents. */
export const MAX_CREDENTIAL_ALLOWED_HOSTS = 16;

/**
 * Variables the sandbox's own set-up owns (its user, its egress proxy and the certificates it trusts), and Keel's
 * prefix: a credential may not take their place, or it could send the sandbox's traffic elsewhere.
 */
const RESERVED_NAMES = new Set([
  'HOME',
  'USER',
  'LANG',
  'TERM',
  'PATH',
  'PWD',
  'SHELL',
  'HOSTNAME',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'FTP_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'NODE_EXTRA_CA_CERTS',
  'PIP_CERT',
]);

/** The name of the sandbox variable that holds the placeholder: a portable shell variable name, not a reserved one. */
export const secretName = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected ASCII letters, digits and underscores, not starting with a digit')
  .refine(
    (value) => !RESERVED_NAMES.has(value.toUpperCase()) && !value.toUpperCase().startsWith('KEEL_'),
    'is reserved for the sandbox (its user, egress proxy and certificates, or KEEL_)',
  );

/** The secret substituted into requests: it may land in a header, so no control characters (no CR or LF). */
const secretValue = z
  .string()
  .min(1, 'must not be empty')
  .max(16_384, 'must be at most 16384 characters')
  .refine((value) => !/[\p{Cc}]/u.test(value), 'must not contain control characters');

/**
 * An `allowed_hosts` entry: a bare host name, an IPv4 address or a `*.` wildcard, lower-cased; no URL, port, path or
 * IPv6 address (the SDK's rule).
 */
const allowedHost = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(
    /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
    'expected a bare host name (api.example.com), an IPv4 address or a *. wildcard (*.example.com): no scheme, ' +
      'port, path or IPv6 address',
  )
  .transform((value) => value.toLowerCase());

/** `BetaManagedAgentsCredentialNetworkingParams`: where the secret may be substituted. */
const networking = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('unrestricted') }).strict(),
    z
      .object({
        type: z.literal('limited'),
        allowed_hosts: z
          .array(allowedHost)
          .min(1, 'must list at least one host')
          .max(MAX_CREDENTIAL_ALLOWED_HOSTS, `must list at most ${MAX_CREDENTIAL_ALLOWED_HOSTS} hosts`)
          .transform((hosts) => [...new Set(hosts)]),
      })
      .strict(),
  ],
  { error: 'expected unrestricted or limited' },
);

/** `BetaManagedAgentsInjectionLocationParams` (and the update's): each location optional. */
const injectionLocation = z.object({ header: z.boolean().optional(), body: z.boolean().optional() }).strict();

/** `auth` of a new `environment_variable` credential (`BetaManagedAgentsEnvironmentVariableCreateParams`). */
export const environmentVariableCreate = z
  .object({
    type: z.literal('environment_variable'),
    secret_name: secretName,
    secret_value: secretValue,
    networking,
    injection_location: injectionLocation.optional(),
  })
  .strict();

/**
 * `auth` of an `environment_variable` update (`BetaManagedAgentsEnvironmentVariableUpdateParams`). `secret_name` is
 * accepted only to say it is immutable (credential-auth.ts refuses a different one).
 */
export const environmentVariableUpdate = z
  .object({
    type: z.literal('environment_variable'),
    secret_name: z.string().optional(),
    secret_value: secretValue.nullable().optional(),
    networking: networking.nullable().optional(),
    injection_location: injectionLocation.optional(),
  })
  .strict();
