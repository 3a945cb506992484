import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The file in the data folder where `keel up` keeps the API key it generated. */
export function apiKeyFile(dataDir: string): string {
  return path.join(dataDir, 'api-key');
}

/** The configured API key, else the one kept in the data folder, else a new one written there (mode 0600). */
export function resolveApiKey(configured: string | undefined, dataDir: string): string {
  if (configured !== undefined) return configured;
  const existing = readApiKey(dataDir);
  if (existing !== undefined) return existing;
  mkdirSync(dataDir, { recursive: true });
  const key = `keel_${randomBytes(24).toString('base64url')}`;
  writeFileSync(apiKeyFile(dataDir), `${key}\n`, { mode: 0o600 });
  return key;
}

/** The API key kept in the data folder, if `keel up` generated one. */
export function readApiKey(dataDir: string): string | undefined {
  const file = apiKeyFile(dataDir);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}
