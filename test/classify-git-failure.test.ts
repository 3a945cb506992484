import { describe, expect, it } from 'vitest';
import { classifyGitFailure } from '../activities/sandbox/classify-git-failure';
import type { GitFailure } from '../activities/sandbox/classify-git-failure';

const TOKEN = 'ghp_classifyToken42';
const HEADER = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
const url = 'https://github.com/acme/app';

const classify = (stderr: string, overrides: Partial<GitFailure> = {}) =>
  classifyGitFailure({ stage: 'clone', url, stderr, exitCode: 128, secrets: [TOKEN, HEADER], ...overrides });

describe('classifyGitFailure: git stderr into the five repository error types', () => {
  it('tells refused or missing credentials, 403 and 404 apart', () => {
    expect(classify("fatal: could not read Username for 'https://github.com': terminal prompts disabled\n").type).toBe(
      'repository_authentication_error',
    );
    expect(classify("remote: Invalid username or token.\nfatal: Authentication failed for 'x'\n").type).toBe(
      'repository_authentication_error',
    );
    expect(classify("fatal: unable to access 'x/': The requested URL returned error: 401\n").type).toBe(
      'repository_authentication_error',
    );
    expect(classify("fatal: unable to access 'x/': The requested URL returned error: 403\n").type).toBe(
      'repository_forbidden_error',
    );
    expect(
      classify("remote: Repository not found.\nfatal: repository 'https://github.com/acme/app/' not found\n").type,
    ).toBe('repository_not_found_error');
    expect(classify("fatal: unable to access 'x/': The requested URL returned error: 404\n").type).toBe(
      'repository_not_found_error',
    );
  });

  it('tells a missing branch or commit from a clone that failed otherwise', () => {
    expect(
      classify(
        'warning: Could not find remote branch nope to clone.\nfatal: Remote branch nope not found in upstream origin\n',
      ).type,
    ).toBe('repository_checkout_error');
    expect(
      classify('fatal: reference is not a tree: ffffffffffffffffffffffffffffffffffffffff\n', { stage: 'checkout' }),
    ).toMatchObject({ type: 'repository_checkout_error', message: expect.stringContaining('Checking out the commit') });
    expect(
      classify("fatal: unable to access 'x/': Failed to connect to 127.0.0.1 port 1: Connection refused\n").type,
    ).toBe('repository_clone_error');
    expect(classify('', { exitCode: null })).toEqual({
      type: 'repository_clone_error',
      message: `Cloning ${url} failed: git did not finish in time`,
    });
    expect(classify('', { exitCode: 1 }).message).toBe(`Cloning ${url} failed: exit 1`);
  });

  it('quotes the telling lines of stderr, with the token and its header redacted, shortened', () => {
    const failure = classify(
      `Cloning into '/tmp/x'...\nremote: bad credentials ${TOKEN}\nfatal: Authentication failed (Authorization: Basic ${HEADER})\n`,
    );
    expect(failure.type).toBe('repository_authentication_error');
    expect(failure.message).toBe(
      `Cloning ${url} failed: remote: bad credentials [redacted] fatal: Authentication failed (Authorization: Basic [redacted])`,
    );
    // The token straddles the cut: redacted first, so not even its first characters remain.
    const prefix = `Cloning ${url} failed: fatal: `;
    const long = classify(`fatal: ${'x'.repeat(995 - prefix.length)}${TOKEN} and more`);
    expect(long.message.length).toBeLessThanOrEqual(1_001);
    expect(long.message).toMatch(/x\[reda…$/);
    expect(long.message).not.toContain(TOKEN.slice(0, 5));
  });
});
