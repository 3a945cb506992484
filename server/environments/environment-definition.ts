import type {
  BetaCloudConfig,
  BetaLimitedNetwork,
  BetaPackages,
} from '@anthropic-ai/sdk/resources/beta/environments/environments';
import { invalidField } from '../api-error';
import { ApiErrorWithCode } from '../api-error-with-code';
import type {
  CloudConfigParams,
  ConfigParams,
  CreateEnvironmentBody,
  UpdateEnvironmentBody,
} from './environment-request-schemas';
import type { EnvironmentDefinition } from '../store/control-plane-store';

/** The networking of an environment that says nothing: limited to no host at all, so the sandbox has no network. */
export const DEFAULT_NETWORKING: BetaLimitedNetwork = {
  type: 'limited',
  allowed_hosts: [],
  allow_mcp_servers: false,
  allow_package_managers: false,
};

/** The packages of an environment that lists none. */
export const NO_PACKAGES: BetaPackages = { type: 'packages', apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] };

const MAX_METADATA_KEYS = 16;
const PACKAGE_MANAGERS = ['apt', 'cargo', 'gem', 'go', 'npm', 'pip'] as const;

/** The definition of a new environment from a validated create body, in the hosted API's resolved shape. */
export function newEnvironmentDefinition(body: CreateEnvironmentBody): EnvironmentDefinition {
  return {
    name: body.name,
    description: body.description ?? null,
    metadata: checkedMetadata(body.metadata ?? {}),
    config: resolveConfig(body.config ?? null, null),
    scope: 'organization',
  };
}

/**
 * `current` with a validated update body applied: omitted fields keep their value (so does a `null` `config` or `name`),
 * `null` clears `description`, and `metadata` is a patch where `null` or an empty string deletes a key.
 */
export function updatedEnvironmentDefinition(
  current: EnvironmentDefinition,
  body: UpdateEnvironmentBody,
): EnvironmentDefinition {
  const metadata: Record<string, string> = { ...current.metadata };
  for (const [key, value] of Object.entries(body.metadata ?? {})) {
    if (value === null || value === '') delete metadata[key];
    else metadata[key] = value;
  }
  const currentCloud = current.config.type === 'cloud' ? current.config : null;
  return {
    name: body.name ?? current.name,
    description: body.description === undefined ? current.description : body.description,
    metadata: checkedMetadata(metadata),
    config: body.config === undefined ? current.config : resolveConfig(body.config, currentCloud),
    scope: 'organization',
  };
}

/** Resolves `config` params: `self_hosted` as it is, `cloud` over the stored cloud config (see `resolveCloudConfig`). */
function resolveConfig(params: ConfigParams | null, current: BetaCloudConfig | null): EnvironmentDefinition['config'] {
  if (params?.type === 'self_hosted') return { type: 'self_hosted' };
  return resolveCloudConfig(params, current);
}

/** Resolves `config` params over the stored config (`null` on create): a field omitted keeps its value, `null` resets it. */
function resolveCloudConfig(params: CloudConfigParams | null, current: BetaCloudConfig | null): BetaCloudConfig {
  const networking =
    params?.networking === undefined
      ? (current?.networking ?? DEFAULT_NETWORKING)
      : params.networking === null
        ? DEFAULT_NETWORKING
        : resolveNetworking(params.networking, current?.networking);
  const packages =
    params?.packages === undefined
      ? (current?.packages ?? NO_PACKAGES)
      : params.packages === null
        ? NO_PACKAGES
        : resolvePackages(params.packages, current?.packages ?? NO_PACKAGES);
  const anyPackage = PACKAGE_MANAGERS.some((manager) => packages[manager].length > 0);
  if (networking.type === 'limited' && anyPackage && !networking.allow_package_managers) {
    throw invalidField(
      'config.networking.allow_package_managers',
      'must be true when packages are listed under limited networking (installing them needs the registries)',
    );
  }
  return { type: 'cloud', networking, packages };
}

function resolveNetworking(
  params: NonNullable<CloudConfigParams['networking']>,
  current: BetaCloudConfig['networking'] | undefined,
): BetaCloudConfig['networking'] {
  if (params.type === 'unrestricted') return { type: 'unrestricted' };
  const base = current?.type === 'limited' ? current : DEFAULT_NETWORKING;
  return {
    type: 'limited',
    allowed_hosts: params.allowed_hosts === undefined ? base.allowed_hosts : [...new Set(params.allowed_hosts ?? [])],
    allow_mcp_servers:
      params.allow_mcp_servers === undefined ? base.allow_mcp_servers : (params.allow_mcp_servers ?? false),
    allow_package_managers:
      params.allow_package_managers === undefined
        ? base.allow_package_managers
        : (params.allow_package_managers ?? false),
  };
}

function resolvePackages(params: NonNullable<CloudConfigParams['packages']>, current: BetaPackages): BetaPackages {
  const resolved: BetaPackages = { ...current, type: 'packages' };
  for (const manager of PACKAGE_MANAGERS) {
    const list = params[manager];
    if (list !== undefined) resolved[manager] = list ?? [];
  }
  return resolved;
}

/** Checks metadata as the SDK's `invalid_metadata` error describes it: at most 16 keys, keys ≤ 64, values ≤ 512. */
function checkedMetadata(metadata: Record<string, string>): Record<string, string> {
  const problem = (message: string) =>
    new ApiErrorWithCode('invalid_request_error', 'invalid_metadata', `metadata: ${message}`);
  const entries = Object.entries(metadata);
  if (entries.length > MAX_METADATA_KEYS) throw problem(`at most ${MAX_METADATA_KEYS} keys, got ${entries.length}`);
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > 64) throw problem(`key "${key.slice(0, 80)}" must be 1 to 64 characters`);
    if (value.length > 512) throw problem(`the value of "${key}" is over 512 characters`);
  }
  return Object.fromEntries(entries.sort(([left], [right]) => (left < right ? -1 : 1)));
}
