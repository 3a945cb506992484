import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../cli/temporal-dev-server';
import { spawnReady } from './support/spawn-ready';
import { removeThrowawaySandboxes } from './support/throwaway-sandboxes';
import { readConfig } from '../common/config';
import { seedWorkflowBundle } from './support/workflow-bundle';

const ROOT = path.resolve(__dirname, '..');
const KEEL = path.join(ROOT, 'bin', 'keel.cjs');
let up: ChildProcess;
let upOutput = '';
let environment: Record<string, string>;
let dataDir: string;

/** Runs `keel <args>` to completion and returns its exit code and output. */
function keel(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [KEEL, ...args], { cwd: ROOT, env: { ...process.env, ...environment } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'keel-cli-'));
  await seedWorkflowBundle(dataDir);
  environment = {
    KEEL_DATA_DIR: dataDir,
    KEEL_PORT: String(await findFreePort()),
    KEEL_TEMPORAL_PORT: String(await findFreePort()),
    KEEL_TEMPORAL_UI_PORT: String(await findFreePort()),
    KEEL_MODEL_BASE_URL: '',
    KEEL_MODEL_API_KEY: '',
    ANTHROPIC_BASE_URL: '',
    ANTHROPIC_API_KEY: '',
    KEEL_API_KEY: '',
  };
  const ready = await spawnReady([KEEL, 'up'], { cwd: ROOT, env: environment, readyText: 'Keel is ready' });
  up = ready.child;
  upOutput = ready.output();
});

afterAll(async () => {
  if (up.exitCode === null) {
    up.kill('SIGTERM');
    await new Promise((resolve) => up.once('exit', resolve));
  }
  await removeThrowawaySandboxes(
    readConfig(environment).temporal.namespace,
    `127.0.0.1:${environment['KEEL_TEMPORAL_PORT']}`,
  );
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the keel command', () => {
  it('keel up prints one ready line with the API URL, the key and the Temporal UI, names the demo model, and /health answers 200', async () => {
    const readyLines = upOutput.split('\n').filter((line) => line.startsWith('Keel is ready'));
    expect(readyLines).toHaveLength(1);
    expect(readyLines[0]).toContain(`http://127.0.0.1:${environment['KEEL_PORT']}`);
    expect(readyLines[0]).toContain(`Temporal UI http://127.0.0.1:${environment['KEEL_TEMPORAL_UI_PORT']}`);
    expect(readyLines[0]).toMatch(/API key keel_\S+/);
    expect(readyLines[0]).toContain('offline demo model');
    const health = await fetch(`http://127.0.0.1:${environment['KEEL_PORT']}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const unauthorised = await fetch(`http://127.0.0.1:${environment['KEEL_PORT']}/v1/sessions`);
    expect(unauthorised.status).toBe(401);
    expect(await unauthorised.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('keel run "run: echo hello" against the running stack prints hello and exits 0; keel sessions and keel events show it', async () => {
    const result = await keel(['run', 'run: echo hello']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('[bash] {"command":"echo hello"}');
    expect(result.stdout.split('\n')).toContain('hello');
    const sessionId = /session (sesn_\S+)/.exec(result.stdout)?.[1];
    expect(sessionId).toBeDefined();

    const sessions = await keel(['sessions']);
    expect(sessions.code).toBe(0);
    expect(sessions.stdout).toContain(sessionId);
    const events = await keel(['events', sessionId ?? '']);
    expect(events.code).toBe(0);
    const types = events.stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types).toContain('agent.tool_use');
    expect(types.at(-1)).toBe('session.status_idle');

    // Sessions outlive `keel run`; this one is ended so the test leaves no container behind.
    const apiKey = /API key (\S+)/.exec(upOutput)?.[1] ?? '';
    const ended = await fetch(`http://127.0.0.1:${environment['KEEL_PORT']}/v1/sessions/${sessionId ?? ''}`, {
      method: 'DELETE',
      headers: { 'x-api-key': apiKey },
    });
    expect(ended.status).toBe(200);
    expect(await ended.json()).toEqual({ id: sessionId, type: 'session_deleted' });
  });

  it('keel keys create makes a key the running server accepts, and keel keys revoke makes it refused', async () => {
    const created = await keel(['keys', 'create', 'ci']);
    expect(created.code).toBe(0);
    const [id, key] = created.stdout.trim().split(' ');
    expect(id).toMatch(/^apikey_/);
    const url = `http://127.0.0.1:${environment['KEEL_PORT']}/v1/sessions`;
    expect((await fetch(url, { headers: { 'x-api-key': key ?? '' } })).status).toBe(200);
    expect((await fetch(url, { headers: { authorization: `Bearer ${key ?? ''}` } })).status).toBe(200);
    const listed = await keel(['keys', 'list']);
    expect(listed.stdout).toContain(`${id ?? ''}  active`);
    expect(listed.stdout).not.toContain(key ?? '');
    expect((await keel(['keys', 'revoke', id ?? ''])).code).toBe(0);
    expect((await fetch(url, { headers: { 'x-api-key': key ?? '' } })).status).toBe(401);
  });

  it('keel run without a prompt and keel with a bad KEEL_PORT fail with a message that names the problem', async () => {
    const noPrompt = await keel(['run']);
    expect(noPrompt.code).toBe(1);
    expect(noPrompt.stderr).toContain('give the prompt');
    const badPort = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [KEEL, 'sessions'], {
        cwd: ROOT,
        env: { ...process.env, ...environment, KEEL_PORT: 'eighty' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toContain('KEEL_PORT');
  });

  it('keel up stops its children on SIGTERM and exits', async () => {
    up.kill('SIGTERM');
    const code = await new Promise((resolve) => up.once('exit', resolve));
    expect(code).toBe(0);
    const health = await fetch(`http://127.0.0.1:${environment['KEEL_PORT']}/health`).catch((error: unknown) => error);
    expect(health).toBeInstanceOf(Error);
  });
});
