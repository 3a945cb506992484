import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeSecretKey, generateSecretKey } from '../../common/secret-box';

/** The file in the data folder that holds the generated secret key when `KEEL_SECRET_KEY` is unset. */
export function secretKeyFile(dataDir: string): string {
  return path.join(dataDir, 'secret.key');
}

/**
 * The key that seals vault secrets: the configured one (`KEEL_SECRET_KEY`), else the one kept in the data folder,
 * else a new one written there. The server and the worker both call this, possibly at the same moment, so the file is
 * created atomically: written in full (mode 0600) under a temporary name, then hard-linked to `secret.key`, which
 * fails when another process got there first; the loser then reads the winner's key. A file that holds no valid key
 * stops start-up rather than being replaced, since replacing it would lose every stored secret.
 */
export function resolveSecretKey(configured: Uint8Array | undefined, dataDir: string): Uint8Array {
  if (configured !== undefined) return configured;
  const file = secretKeyFile(dataDir);
  const existing = readSecretKeyFile(file);
  if (existing !== null) return existing;
  mkdirSync(dataDir, { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, `${Buffer.from(generateSecretKey()).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  const written = readSecretKeyFile(file);
  if (written === null) throw new Error(`${file} vanished while it was being created.`);
  return written;
}

/** The key in `file`, or `null` when there is no such file; throws when the file holds something else. */
function readSecretKeyFile(file: string): Uint8Array | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const key = decodeSecretKey(text);
  if (key === null) {
    throw new Error(
      `${file} does not hold a secret key (the base64 of 32 bytes). Restore it, or set KEEL_SECRET_KEY to the key ` +
        'that sealed the stored vault secrets.',
    );
  }
  return key;
}
