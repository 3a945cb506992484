import { z } from 'zod';
import { requestBody } from '../request-body';

/**
 * A package as a package manager takes it, optionally with a version or extras (`requests==2.32.3`, `@scope/name@1`,
 * `curl=7.88.1-10`): no spaces, quotes or shell characters, and no leading `-`, so a name can never become an option.
 */
const packageName = z
  .string()
  .min(1)
  .max(214)
  .regex(
    /^[A-Za-z0-9@_][A-Za-z0-9._+\-:=<>!~^*@/,[\]]*$/,
    'expected a package name, optionally with a version (such as requests==2.32.3)',
  );
const packageList = z.array(packageName).max(256, 'at most 256 packages per manager');
const unsupportedManager = (manager: string) =>
  z
    .array(z.string())
    .max(0, `Keel installs apt, pip and npm packages; ${manager} is not supported yet`)
    .nullable()
    .optional();

/** `config.packages`: apt, pip and npm lists (cargo, gem and go only empty); a list omitted keeps its value on update. */
const packagesParams = z
  .object({
    type: z.literal('packages').optional(),
    apt: packageList.nullable().optional(),
    pip: packageList.nullable().optional(),
    npm: packageList.nullable().optional(),
    cargo: unsupportedManager('cargo'),
    gem: unsupportedManager('gem'),
    go: unsupportedManager('go'),
  })
  .strict();

/** A host the sandbox may reach: a DNS name or IPv4 address, optionally `*.` for every subdomain; kept lower-case. */
const allowedHost = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/,
    'expected a host name such as pypi.org or *.example.com (no scheme, port or path)',
  )
  .transform((host) => host.toLowerCase());

/** `config.networking`: unrestricted, or limited to `allowed_hosts` (a field omitted keeps its value on update). */
const networkingParams = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('unrestricted') }).strict(),
    z
      .object({
        type: z.literal('limited'),
        allowed_hosts: z.array(allowedHost).max(256, 'at most 256 hosts').nullable().optional(),
        allow_mcp_servers: z.boolean().nullable().optional(),
        allow_package_managers: z.boolean().nullable().optional(),
      })
      .strict(),
  ],
  { error: 'expected unrestricted or limited' },
);

/** A `cloud` environment's `config`: Keel runs it in its Docker sandbox. */
const cloudConfigParams = z
  .object({
    type: z.literal('cloud'),
    networking: networkingParams.nullable().optional(),
    packages: packagesParams.nullable().optional(),
  })
  .strict();

/**
 * `config` of a create or update: `cloud` (Keel's Docker sandbox) or `self_hosted` (the environment's own workers
 * run the tools, through its work queue).
 */
const configParams = z.discriminatedUnion(
  'type',
  [cloudConfigParams, z.object({ type: z.literal('self_hosted') }).strict()],
  { error: 'expected a config of type cloud or self_hosted' },
);

const environmentName = z
  .string({ error: (issue) => (issue.input === undefined ? 'name is required' : 'expected a string') })
  .max(256)
  .refine((name) => name.trim() !== '', 'name must not be empty');
const scope = z
  .literal('organization', { error: 'a Keel server is one organization: only organization is supported' })
  .nullable()
  .optional();

/** The body of `POST /v1/environments` (`EnvironmentCreateParams`); metadata is checked by the service. */
export const createEnvironmentBody = requestBody({
  name: environmentName,
  config: configParams.nullable().optional(),
  description: z.string().max(2048).nullable().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  scope,
});

/** The body of `POST /v1/environments/{environment_id}` (`EnvironmentUpdateParams`): omitted fields keep their value. */
export const updateEnvironmentBody = requestBody({
  name: environmentName.nullable().optional(),
  config: configParams.nullable().optional(),
  description: z.string().max(2048).nullable().optional(),
  metadata: z.record(z.string(), z.string().nullable()).optional(),
  scope,
});

/** A parsed create body. */
export type CreateEnvironmentBody = z.infer<typeof createEnvironmentBody>;

/** A parsed update body. */
export type UpdateEnvironmentBody = z.infer<typeof updateEnvironmentBody>;

/** A parsed `cloud` `config`. */
export type CloudConfigParams = z.infer<typeof cloudConfigParams>;

/** A parsed `config`. */
export type ConfigParams = z.infer<typeof configParams>;
