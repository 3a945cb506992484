import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Every string and every byte buffer (decoded as UTF-8) inside `value`: what a Temporal history or an API body holds,
 * readable, so a test can check that a secret is in none of it.
 */
export function readableText(value: unknown, parts: string[] = []): string[] {
  if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
  else if (typeof value === 'string') parts.push(value);
  else if (Array.isArray(value)) for (const item of value) readableText(item, parts);
  else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value as Record<string, unknown>)) readableText(item, parts);
  }
  return parts;
}

/** Every file under `folder`, at any depth, but for the folders named in `except` (at any depth). */
export function filesUnder(folder: string, except: readonly string[] = []): string[] {
  return readdirSync(folder).flatMap((name) => {
    const file = path.join(folder, name);
    if (!statSync(file).isDirectory()) return [file];
    return except.includes(name) ? [] : filesUnder(file, except);
  });
}

/**
 * The folder of the sessions' workspace disk images in the data folder: the sandbox's own files, which the secret
 * checks search from inside the container instead (a 10 GB sparse image cannot be read into one buffer).
 */
export const WORKSPACE_DISKS_FOLDER = 'workspace-disks';
