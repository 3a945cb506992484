import { readFileSync } from 'node:fs';
import type Anthropic from '@anthropic-ai/sdk';
import type {
  BetaManagedAgentsGitHubRepositoryResource,
  ResourceAddParams,
} from '@anthropic-ai/sdk/resources/beta/sessions/resources';
import type { SessionCreateParams } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialStoreFile } from '../activities/credentials/sqlite-credential-resolver';
import { findFreePort } from '../cli/temporal-dev-server';
import { GitHttpServer } from './support/git-http-server';
import { allSessionEvents, rejection, sdkClient, untilIdleAfter } from './support/sdk';
import { execInSandbox, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { WORKSPACE_DISKS_FOLDER, filesUnder, readableText } from './support/readable-text';

const TOKEN = 'ghp_keelRepositoryToken0123456789abcdef';
/** The forms the token travels in to the git server: any of them in a log or a file would be a leak. */
const TOKEN_FORMS = [TOKEN, Buffer.from(`x-access-token:${TOKEN}`).toString('base64')];

let git: GitHttpServer;
let harness: TestStack;
let client: Anthropic;
let agentId: string;
let environmentId: string;
let unreachableHost: string;
const commits = { first: '', feature: '' };

beforeAll(async () => {
  git = await GitHttpServer.start({ token: TOKEN, forbidden: ['acme/vault'] });
  git.addRepository('acme/app', ({ git: run, write }) => {
    write('README.md', 'app, first version\n');
    run('add', '.');
    run('commit', '--quiet', '-m', 'first on main');
    commits.first = run('rev-parse', 'HEAD');
    write('README.md', 'app, second version\n');
    run('commit', '--quiet', '-am', 'second on main');
    run('checkout', '--quiet', '-b', 'feature');
    write('feature.txt', 'feature work\n');
    run('add', '.');
    run('commit', '--quiet', '-m', 'feature commit');
    commits.feature = run('rev-parse', 'HEAD');
    run('checkout', '--quiet', 'main');
  });
  git.addRepository('acme/vault', ({ git: run, write }) => {
    write('secret.txt', 'nobody may read this\n');
    run('add', '.');
    run('commit', '--quiet', '-m', 'private');
  });
  // A listed host where nothing listens: a clone there fails to connect.
  unreachableHost = `127.0.0.1:${await findFreePort()}`;
  harness = await startTestStack({ environment: { KEEL_REPOSITORY_HOSTS: `${git.host},${unreachableHost}` } });
  client = sdkClient(harness.stack.apiUrl);
  const agent = await client.beta.agents.create({
    name: 'repositories',
    model: 'scripted-model',
    tools: [{ type: 'agent_toolset_20260401' }],
  });
  agentId = agent.id;
  environmentId = (await client.beta.environments.create({ name: 'repositories', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
  await git?.close();
});

/** A session of the test agent with `resources` (the SDK's create params take `github_repository` ones). */
function createSession(
  resources: SessionCreateParams['resources'] = [],
): ReturnType<Anthropic['beta']['sessions']['create']> {
  return client.beta.sessions.create({ agent: agentId, environment_id: environmentId, resources });
}

/** Runs `command` through a scripted `bash` turn; returns the tool result's text and every event of the session. */
async function runBash(
  sessionId: string,
  command: string,
): Promise<{ output: string; events: Awaited<ReturnType<typeof allSessionEvents>> }> {
  harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command } }, { kind: 'text', text: 'ran it' });
  const sent = await client.beta.sessions.events.send(sessionId, {
    events: [{ type: 'user.message', content: [{ type: 'text', text: 'run it' }] }],
  });
  const events = await untilIdleAfter(client, sessionId, sent.data?.[0]?.id);
  const turn = events.slice(events.findIndex((event) => event.id === sent.data?.[0]?.id));
  const result = turn.find((event) => event.type === 'agent.tool_result');
  const output = result?.type === 'agent.tool_result' ? JSON.stringify(result.content ?? []) : '';
  return { output, events: turn };
}

/** The `session.error` events among `events`. */
function sessionErrors(events: Awaited<ReturnType<typeof allSessionEvents>>): unknown[] {
  return events.flatMap((event) => (event.type === 'session.error' ? [event.error] : []));
}

/** The session's rows of the token table: the sealed tokens the server stored. */
function storedTokens(sessionId: string): Array<{ resource_id: string; token: string }> {
  const database = new Database(credentialStoreFile(harness.config.dataDir), { readonly: true });
  try {
    return database
      .prepare<[string], { resource_id: string; token: string }>(
        'SELECT resource_id, token FROM session_repository_tokens WHERE session_id = ? ORDER BY resource_id',
      )
      .all(sessionId);
  } finally {
    database.close();
  }
}

describe('github_repository resources: cloned into the workspace before the first tool call', () => {
  it('clones a branch and a commit with the token, which no event, history, data file or sandbox file holds', async () => {
    const session = await createSession([
      {
        type: 'github_repository',
        url: git.url('acme/app.git'),
        authorization_token: TOKEN,
        checkout: { type: 'branch', name: 'feature' },
      },
      {
        type: 'github_repository',
        url: git.url('acme/app'),
        authorization_token: TOKEN,
        checkout: { type: 'commit', sha: commits.first },
        mount_path: '/workspace/pinned',
      },
    ]);
    const [branch, pinned] = session.resources as BetaManagedAgentsGitHubRepositoryResource[];
    expect(branch).toEqual({
      id: expect.stringMatching(/^sesrsc_/),
      type: 'github_repository',
      url: git.url('acme/app.git'),
      checkout: { type: 'branch', name: 'feature' },
      mount_path: '/workspace/app',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(pinned).toMatchObject({ mount_path: '/workspace/pinned', checkout: { type: 'commit', sha: commits.first } });
    // Sealed in the store, before anything was cloned.
    const sealed = storedTokens(session.id);
    expect(sealed.map((row) => row.resource_id).sort()).toEqual([branch?.id, pinned?.id].sort());
    for (const row of sealed) expect(row.token).not.toContain(TOKEN);

    const { output, events } = await runBash(
      session.id,
      'git -C /workspace/app log -1 --format=%s; cat /workspace/app/feature.txt; ' +
        'git -C /workspace/app remote get-url origin; git -C /workspace/pinned rev-parse HEAD; ' +
        'git -C /workspace/pinned log -1 --format=%s; stat -c %u:%g /workspace/app/README.md /workspace/app/.git/config',
    );
    expect(output).toContain('feature commit');
    expect(output).toContain('feature work');
    expect(output).toContain(git.url('acme/app.git'));
    expect(output).toContain(commits.first);
    expect(output).toContain('first on main');
    expect(output).not.toContain('0:0');
    expect(output).toContain('1000:1000');
    expect(sessionErrors(events)).toEqual([]);
    expect(git.authorizedUsers).toContain('x-access-token');

    // A second tool call clones nothing again (the clones are there); the files are the agent's to change.
    const again = await runBash(
      session.id,
      'echo changed >> /workspace/app/README.md; git -C /workspace/app status -s',
    );
    expect(again.output).toContain('M README.md');

    // The token is in no file of the clones (.git included), no process of the sandbox, no event, no history.
    const processes = await execInSandbox(harness.docker, session.id, [
      'sh',
      '-c',
      'cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline; echo end',
    ]);
    expect(processes).toContain('end');
    for (const form of TOKEN_FORMS) {
      expect(processes).not.toContain(form);
      const files = await execInSandbox(harness.docker, session.id, ['grep', '-rlF', '--', form, '/workspace', '/tmp']);
      expect(files).toBe('');
    }
    const eventsText = JSON.stringify(await allSessionEvents(client, session.id));
    const listed = JSON.stringify((await client.beta.sessions.resources.list(session.id)).data);
    const retrieved = JSON.stringify(
      await client.beta.sessions.resources.retrieve(branch?.id ?? '', { session_id: session.id }),
    );
    const history = readableText(await harness.stack.temporal.workflow.getHandle(session.id).fetchHistory()).join('\n');
    expect(history).toContain('github_repository');
    for (const form of TOKEN_FORMS) {
      for (const text of [eventsText, listed, retrieved, history]) expect(text).not.toContain(form);
    }
    expect(listed).not.toContain('authorization_token');

    // Deleting the session forgets its tokens.
    await client.beta.sessions.delete(session.id);
    expect(storedTokens(session.id)).toEqual([]);
    // And nothing in the data folder (the Temporal database with every history, the store) ever held the token.
    for (const file of filesUnder(harness.config.dataDir, [WORKSPACE_DISKS_FOLDER])) {
      const bytes = readFileSync(file);
      for (const form of TOKEN_FORMS) expect(bytes.includes(form), file).toBe(false);
    }
  });

  it('logs repository_authentication_error for a wrong token and clones at the next tool call after a rotation', async () => {
    const url = git.url('acme/app');
    const session = await createSession([{ type: 'github_repository', url, authorization_token: 'ghp_wrong' }]);
    const resource = session.resources[0] as BetaManagedAgentsGitHubRepositoryResource;

    const first = await runBash(session.id, 'ls /workspace; echo listed');
    expect(first.output).toContain('listed');
    const errors = sessionErrors(first.events);
    expect(errors).toEqual([
      {
        type: 'repository_authentication_error',
        message: expect.any(String),
        repository_url: url,
        retry_status: { type: 'retrying' },
      },
    ]);
    expect(JSON.stringify(errors)).not.toContain('ghp_wrong');
    expect(first.events.at(-1)).toMatchObject({ type: 'session.status_idle', stop_reason: { type: 'end_turn' } });

    // Without a new token, the next tool call does not try again.
    const second = await runBash(session.id, 'test -d /workspace/app && echo present || echo absent');
    expect(second.output).toContain('absent');
    expect(sessionErrors(second.events)).toEqual([]);

    const rotated = (await client.beta.sessions.resources.update(resource.id, {
      session_id: session.id,
      authorization_token: TOKEN,
    })) as BetaManagedAgentsGitHubRepositoryResource;
    expect(rotated).toEqual({ ...resource, updated_at: expect.any(String) });
    expect(Date.parse(rotated.updated_at)).toBeGreaterThan(Date.parse(resource.updated_at));
    expect(JSON.stringify(rotated)).not.toContain(TOKEN);
    expect(await client.beta.sessions.resources.retrieve(resource.id, { session_id: session.id })).toEqual(rotated);

    const third = await runBash(session.id, 'git -C /workspace/app log -1 --format=%s');
    expect(third.output).toContain('second on main');
    expect(sessionErrors(third.events)).toEqual([]);
    await client.beta.sessions.delete(session.id);
  });

  it('reports a missing repository, a forbidden one, a missing branch or commit and an unreachable host', async () => {
    const missing = git.url('acme/missing');
    const forbidden = git.url('acme/vault');
    const app = git.url('acme/app');
    const unreachable = `http://${unreachableHost}/acme/app`;
    const session = await createSession([
      { type: 'github_repository', url: missing, authorization_token: TOKEN },
      { type: 'github_repository', url: forbidden, authorization_token: TOKEN },
      {
        type: 'github_repository',
        url: app,
        authorization_token: TOKEN,
        checkout: { type: 'branch', name: 'no-such-branch' },
        mount_path: '/workspace/branchless',
      },
      {
        type: 'github_repository',
        url: app,
        authorization_token: TOKEN,
        checkout: { type: 'commit', sha: 'f'.repeat(40) },
        mount_path: '/workspace/commitless',
      },
      { type: 'github_repository', url: unreachable, authorization_token: TOKEN, mount_path: '/workspace/far' },
    ]);
    const { output, events } = await runBash(session.id, 'ls -A /workspace; echo listed');
    expect(output).toContain('listed');
    const retrying = { type: 'retrying' };
    expect(sessionErrors(events)).toEqual([
      {
        type: 'repository_not_found_error',
        message: expect.any(String),
        repository_url: missing,
        retry_status: retrying,
      },
      {
        type: 'repository_forbidden_error',
        message: expect.any(String),
        repository_url: forbidden,
        retry_status: retrying,
      },
      { type: 'repository_checkout_error', message: expect.any(String), repository_url: app, retry_status: retrying },
      { type: 'repository_checkout_error', message: expect.any(String), repository_url: app, retry_status: retrying },
      {
        type: 'repository_clone_error',
        message: expect.any(String),
        repository_url: unreachable,
        retry_status: retrying,
      },
    ]);
    expect(JSON.stringify(sessionErrors(events))).not.toContain(TOKEN);
    for (const name of ['missing', 'vault', 'branchless', 'commitless', 'far']) expect(output).not.toContain(name);
    expect((await client.beta.sessions.retrieve(session.id)).status).toBe('idle');
    await client.beta.sessions.delete(session.id);
  });

  it('adds a repository to a live session, clones it at the next tool call, and keeps its files when it is deleted', async () => {
    const session = await createSession();
    expect((await runBash(session.id, 'echo warm')).output).toContain('warm');

    const params = { type: 'github_repository', url: git.url('acme/app'), authorization_token: TOKEN };
    const added = (await client.beta.sessions.resources.add(
      session.id,
      params as unknown as ResourceAddParams,
    )) as unknown as BetaManagedAgentsGitHubRepositoryResource;
    expect(added).toEqual({
      id: expect.stringMatching(/^sesrsc_/),
      type: 'github_repository',
      url: git.url('acme/app'),
      checkout: null,
      mount_path: '/workspace/app',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(storedTokens(session.id).map((row) => row.resource_id)).toEqual([added.id]);
    expect((await client.beta.sessions.resources.list(session.id)).data).toEqual([added]);
    expect((await client.beta.sessions.retrieve(session.id)).resources).toEqual([added]);

    const cloned = await runBash(session.id, 'cat /workspace/app/README.md');
    expect(cloned.output).toContain('app, second version');
    expect(sessionErrors(cloned.events)).toEqual([]);

    // The mount path is taken now; and a file resource's token cannot be updated.
    const taken = await rejection(
      client.beta.sessions.resources.add(session.id, params as unknown as ResourceAddParams),
    );
    expect(taken.status).toBe(400);
    expect(taken.message).toContain('/workspace/app is already used');

    await client.beta.sessions.resources.delete(added.id, { session_id: session.id });
    expect(storedTokens(session.id)).toEqual([]);
    const kept = await runBash(session.id, 'cat /workspace/app/README.md');
    expect(kept.output).toContain('app, second version');
    expect((await client.beta.sessions.retrieve(session.id)).resources).toEqual([]);
    await client.beta.sessions.delete(session.id);
  });

  it('refuses, with a 400 naming the field, URLs Keel does not clone from and mount paths outside /workspace', async () => {
    const refusals: Array<[string, SessionCreateParams['resources'], string]> = [
      ['gitlab', [{ type: 'github_repository', url: 'https://gitlab.com/acme/app' }], 'resources[0].url'],
      ['http github', [{ type: 'github_repository', url: 'http://github.com/acme/app' }], 'resources[0].url'],
      ['no repository', [{ type: 'github_repository', url: 'https://github.com/acme' }], 'resources[0].url'],
      ['credentials', [{ type: 'github_repository', url: `https://x:${TOKEN}@github.com/a/b` }], 'resources[0].url'],
      ['unlisted', [{ type: 'github_repository', url: 'http://127.0.0.2:9/acme/app' }], 'resources[0].url'],
      [
        'outside the workspace',
        [{ type: 'github_repository', url: 'https://github.com/acme/app', mount_path: '/mnt/app' }],
        'resources[0].mount_path',
      ],
      [
        'short sha',
        [{ type: 'github_repository', url: 'https://github.com/acme/app', checkout: { type: 'commit', sha: 'abc' } }],
        'resources[0].checkout.sha',
      ],
      [
        'colliding',
        [
          { type: 'github_repository', url: 'https://github.com/acme/app' },
          { type: 'github_repository', url: 'https://github.com/other/app.git' },
        ],
        'resources[1].mount_path',
      ],
    ];
    for (const [name, resources, field] of refusals) {
      const refused = await rejection(createSession(resources));
      expect(refused.status, name).toBe(400);
      expect(refused.message, name).toContain(field);
      expect(refused.message, name).not.toContain(TOKEN);
    }

    const session = await createSession();
    const add = (params: Record<string, unknown>) =>
      rejection(client.beta.sessions.resources.add(session.id, params as unknown as ResourceAddParams));
    const badUrl = await add({ type: 'github_repository', url: 'https://example.com/acme/app' });
    expect(badUrl.status).toBe(400);
    expect(badUrl.message).toContain('"message":"url: ');
    const badPath = await add({
      type: 'github_repository',
      url: 'https://github.com/acme/app',
      mount_path: '/tmp/app',
    });
    expect(badPath.status).toBe(400);
    expect(badPath.message).toMatch(/"message":"mount_path: .*\/workspace\//);
    const memory = await add({ type: 'memory_store', memory_store_id: 'memstore_123' });
    expect(memory.status).toBe(400);
    expect(memory.message).toContain('memory_store');
    expect((await client.beta.sessions.retrieve(session.id)).resources).toEqual([]);
    expect(storedTokens(session.id)).toEqual([]);
    await client.beta.sessions.delete(session.id);
  });
});

describe('github_repository resources with eager provisioning', () => {
  it('clones right after the sandbox starts, before any message', async () => {
    const eager = await startTestStack({
      environment: { KEEL_REPOSITORY_HOSTS: git.host, KEEL_SANDBOX_PROVISIONING: 'eager' },
    });
    try {
      const sdk = sdkClient(eager.stack.apiUrl);
      const session = await sdk.beta.sessions.create({
        agent: (await sdk.beta.agents.create({ name: 'eager', model: 'scripted-model' })).id,
        environment_id: (await sdk.beta.environments.create({ name: 'eager', config: { type: 'cloud' } })).id,
        resources: [
          {
            type: 'github_repository',
            url: git.url('acme/app'),
            authorization_token: TOKEN,
            checkout: { type: 'branch', name: 'feature' },
          },
        ],
      });
      let subject = '';
      for (let attempt = 0; attempt < 150 && !subject.includes('feature commit'); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        subject = await execInSandbox(eager.docker, session.id, [
          'git',
          '-C',
          '/workspace/app',
          'log',
          '-1',
          '--format=%s',
        ]).catch(() => '');
      }
      expect(subject).toContain('feature commit');
      expect((await allSessionEvents(sdk, session.id)).map((event) => event.type)).not.toContain('session.error');
      await sdk.beta.sessions.delete(session.id);
    } finally {
      await eager.stop();
    }
  });
});
