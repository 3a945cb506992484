import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterEach, beforeAll } from 'vitest';
import { createSandboxActivities } from '../../activities/sandbox/create-sandbox-activities';
import type { SandboxActivities } from '../../activities/sandbox/create-sandbox-activities';
import type { SandboxOptions } from '../../activities/sandbox/sandbox-options';
import type { ExecuteResult } from '../../common/sandbox';
import { execInSandbox } from './test-stack';

/** The limits the sandbox tests give their containers, so they can check them on the container. */
export const SANDBOX_TEST_LIMITS = {
  memoryBytes: 512 * 1024 * 1024,
  nanoCpus: 1_000_000_000,
  pidsLimit: 256,
  commandTimeoutMs: 30_000,
  maxOutputBytes: 4096,
} as const;

/** The sandbox Activities against the real Docker engine and the image `npm run setup` built, for one test file. */
export interface SandboxFixture {
  readonly docker: Docker;
  readonly options: SandboxOptions;
  readonly activities: SandboxActivities;
  /** A fresh session id; its sandbox and volume are destroyed after the test. */
  newSessionId: () => string;
  /** Runs `command` through the `bash` tool. */
  bash: (sessionId: string, command: string, extra?: Record<string, unknown>) => Promise<ExecuteResult>;
  /** The command lines of all processes in the session's container, read with a plain `docker exec`. */
  processes: (sessionId: string) => Promise<string[]>;
}

/**
 * Registers the hooks of a sandbox test file: before all, it checks that Docker and the sandbox image answer (a
 * missing one fails the file; nothing is skipped); after each test, it destroys the sandboxes the test created.
 * `extraOptions` (sandbox networks, a CA bundle) are added to the options every Activity gets.
 */
export function useSandboxFixture(sessionPrefix: string, extraOptions: Partial<SandboxOptions> = {}): SandboxFixture {
  const docker = new Docker();
  const sessions: string[] = [];
  let options: SandboxOptions | undefined;
  let activities: SandboxActivities | undefined;
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the sandbox fixture is used before its beforeAll hook ran');
    return value;
  };

  beforeAll(async () => {
    const image = readFileSync(path.resolve(__dirname, '..', '..', '.keel', 'sandbox-image'), 'utf8').trim();
    await docker.ping();
    await docker.getImage(image).inspect();
    // These tests mount no uploaded files, so no data folder is read.
    options = { docker, image, dataDir: tmpdir(), ...SANDBOX_TEST_LIMITS, ...extraOptions };
    activities = createSandboxActivities(options);
  });

  afterEach(async () => {
    for (const sessionId of sessions.splice(0)) {
      await ready(activities).destroySandbox({ sessionId, removeVolume: true });
    }
  });

  return {
    docker,
    get options() {
      return ready(options);
    },
    get activities() {
      return ready(activities);
    },
    newSessionId: () => {
      const sessionId = `sesn_${sessionPrefix}${randomBytes(8).toString('hex')}`;
      sessions.push(sessionId);
      return sessionId;
    },
    bash: (sessionId, command, extra = {}) =>
      ready(activities).execute({ sessionId, name: 'bash', input: { command, ...extra } }),
    processes: async (sessionId) =>
      (await execInSandbox(docker, sessionId, ['ps', '-eo', 'args='])).split('\n').map((line) => line.trim()),
  };
}
