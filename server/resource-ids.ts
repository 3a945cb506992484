import { randomBytes } from 'node:crypto';
import { invalidField } from './api-error';

/** Id prefixes of the control-plane resources, as the hosted API spells them (`agent_011CZ…`, `env_011CZ…`). */
export const RESOURCE_ID_PREFIXES = {
  agent: 'agent_',
  environment: 'env_',
  file: 'file_',
  vault: 'vlt_',
  credential: 'vcrd_',
  memory_store: 'memstore_',
  memory: 'mem_',
  memory_version: 'memver_',
  skill: 'skill_',
  skill_version: 'skillver_',
  dream: 'drm_',
  deployment: 'depl_',
  deployment_run: 'drun_',
} as const;

/** A kind of control-plane resource. */
export type ResourceKind = keyof typeof RESOURCE_ID_PREFIXES;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_CHARACTERS = 24;
/** The largest multiple of the alphabet's size under 256, so that every character is equally likely. */
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);

/** A new id of `kind`: its prefix and 24 random base62 characters (about 143 bits), the look of the hosted ids. */
export function newResourceId(kind: ResourceKind): string {
  let suffix = '';
  while (suffix.length < RANDOM_CHARACTERS) {
    for (const byte of randomBytes(RANDOM_CHARACTERS * 2)) {
      if (byte < UNBIASED_LIMIT && suffix.length < RANDOM_CHARACTERS) suffix += ALPHABET.charAt(byte % ALPHABET.length);
    }
  }
  return `${RESOURCE_ID_PREFIXES[kind]}${suffix}`;
}

/** Whether `value` has the shape of an id of `kind` (its prefix and 8 to 64 letters and digits). */
export function isResourceId(kind: ResourceKind, value: string): boolean {
  const prefix = RESOURCE_ID_PREFIXES[kind];
  return value.startsWith(prefix) && /^[0-9A-Za-z]{8,64}$/.test(value.slice(prefix.length));
}

/** Throws a 400 naming `field` unless `value` is an id of `kind`, so an id of the wrong kind never reaches the store. */
export function requireResourceId(kind: ResourceKind, value: string, field: string): void {
  if (!isResourceId(kind, value)) {
    const article = /^[aeiou]/.test(kind) ? 'an' : 'a';
    throw invalidField(
      field,
      `expected ${article} ${kind} id (${RESOURCE_ID_PREFIXES[kind]}…), got "${value.slice(0, 80)}"`,
    );
  }
}
