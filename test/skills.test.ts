import type Anthropic from '@anthropic-ai/sdk';
import { toFile } from '@anthropic-ai/sdk';
import type { Uploadable } from '@anthropic-ai/sdk/core/uploads';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxContainerName } from '../common/sandbox';
import { bashTurn, rejection, sdkClient } from './support/sdk';
import { startPostgres } from './support/postgres';
import type { PrivatePostgres } from './support/postgres';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let postgres: PrivatePostgres | undefined;

/** Starts a stack (on the control plane `environment` names) for the tests of one `describe`. */
function useStack(environment: () => Promise<Record<string, string>> = () => Promise.resolve({})): void {
  beforeAll(async () => {
    harness = await startTestStack({ environment: await environment() });
    client = sdkClient(harness.stack.apiUrl);
  }, 120_000);
  afterAll(async () => {
    await harness?.stop();
  });
}

afterAll(async () => {
  await postgres?.stop();
});

const SCRIPT = "import sys\nprint('report for', sys.argv[1] if len(sys.argv) > 1 else 'nobody')\n";

/** The `error.message` of an Anthropic-shaped error answer. */
function messageOf(error: Awaited<ReturnType<typeof rejection>>): string {
  const body: unknown = error.error;
  const inner: unknown = typeof body === 'object' && body !== null ? Reflect.get(body, 'error') : undefined;
  const message: unknown = typeof inner === 'object' && inner !== null ? Reflect.get(inner, 'message') : undefined;
  return typeof message === 'string' ? message : '';
}

/** The files of a skill upload, in one top-level folder, as a client sends them. */
async function skillFiles(
  name: string,
  description = 'Writes short reports. Use when asked for a report.',
  extra: Record<string, string> = { 'scripts/report.py': SCRIPT },
): Promise<Uploadable[]> {
  const skillMd = `---\nname: ${name}\ndescription: ${description}\n---\n\n# Reports\n\nRun scripts/report.py <who>.\n`;
  const files: Record<string, string> = { 'SKILL.md': skillMd, ...extra };
  return Promise.all(
    Object.entries(files).map(([path, text]) => toFile(Buffer.from(text), `${name}/${path}`, { type: 'text/plain' })),
  );
}

describe('skills: custom skills and their versions through the official SDK', () => {
  useStack();

  it('creates, lists, versions and deletes a skill; anthropic skills list empty', async () => {
    const skill = await client.beta.skills.create({ files: await skillFiles('report-writer') });
    expect(skill).toEqual({
      id: expect.stringMatching(/^skill_/),
      type: 'skill',
      display_name: 'report-writer',
      latest_version_id: expect.stringMatching(/^skillver_/),
      source: { type: 'custom' },
      created_at: expect.any(String),
      updated_at: skill.created_at,
    });
    expect(await client.beta.skills.retrieve(skill.id)).toEqual(skill);
    const listed = await client.beta.skills.list({ source: 'custom' });
    expect(listed.data.map((item) => item.id)).toContain(skill.id);
    expect((await client.beta.skills.list({ source: 'anthropic' })).data).toEqual([]);

    const first = await client.beta.skills.versions.retrieve(skill.latest_version_id, { skill_id: skill.id });
    expect(first).toEqual({
      id: skill.latest_version_id,
      type: 'skill_version',
      skill_id: skill.id,
      name: 'report-writer',
      description: 'Writes short reports. Use when asked for a report.',
      created_at: skill.created_at,
    });
    const second = await client.beta.skills.versions.create(skill.id, {
      files: await skillFiles('report-writer', 'Writes reports, version two.'),
    });
    expect(second).toMatchObject({
      type: 'skill_version',
      name: 'report-writer',
      description: 'Writes reports, version two.',
    });
    expect((await client.beta.skills.retrieve(skill.id)).latest_version_id).toBe(second.id);
    const download = await client.beta.skills.versions.download(second.id, { skill_id: skill.id });
    expect(download.headers.get('content-type')).toBe('application/zip');
    expect(download.headers.get('content-disposition')).toContain('report-writer.zip');
    const archive = unzipSync(new Uint8Array(await download.arrayBuffer()));
    expect(Object.keys(archive).sort()).toEqual(['report-writer/SKILL.md', 'report-writer/scripts/report.py']);
    expect(strFromU8(archive['report-writer/scripts/report.py'] ?? new Uint8Array())).toBe(SCRIPT);
    const versions = await client.beta.skills.versions.list(skill.id);
    expect(versions.data.map((version) => version.id)).toEqual([second.id, first.id]);

    const renamed = await rejection(
      client.beta.skills.versions.create(skill.id, { files: await skillFiles('other-name') }),
    );
    expect(renamed.status).toBe(400);
    expect(messageOf(renamed)).toContain('SKILL.md name');

    expect(await client.beta.skills.versions.delete(second.id, { skill_id: skill.id })).toEqual({
      id: second.id,
      type: 'skill_version_deleted',
    });
    expect((await client.beta.skills.retrieve(skill.id)).latest_version_id).toBe(first.id);
    const onlyOne = await rejection(client.beta.skills.versions.delete(first.id, { skill_id: skill.id }));
    expect(onlyOne.status).toBe(400);
    expect((await rejection(client.beta.skills.versions.retrieve(second.id, { skill_id: skill.id }))).status).toBe(404);

    expect(await client.beta.skills.delete(skill.id)).toEqual({ id: skill.id, type: 'skill_deleted' });
    expect((await rejection(client.beta.skills.retrieve(skill.id))).status).toBe(404);
  });

  it('refuses uploads the docs rule out with a 400 naming what is wrong', async () => {
    const cases: Array<[Uploadable[], string]> = [
      [[await toFile(Buffer.from('print(1)'), 'x/run.py')], 'SKILL.md is missing'],
      [await skillFiles('Bad_Name'), 'SKILL.md name'],
      [await skillFiles('claude-helper'), 'reserved word'],
      [await skillFiles('no-description', ''), 'SKILL.md description'],
      [await skillFiles('tagged', 'uses <b>tags</b>'), 'XML tags'],
      [[await toFile(Buffer.from('no front matter'), 'x/SKILL.md')], 'front matter'],
      [[await toFile(Buffer.from('---\nname: [\n---\n'), 'x/SKILL.md')], 'not valid YAML'],
    ];
    for (const [files, message] of cases) {
      const error = await rejection(client.beta.skills.create({ files }));
      expect(error.status, message).toBe(400);
      expect(error.error, message).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringContaining(message) },
      });
    }
    const longTitle = await rejection(
      client.beta.skills.create({ files: await skillFiles('titled'), display_name: 'x'.repeat(256) }),
    );
    expect(messageOf(longTitle)).toContain('display_name');
    const titled = await client.beta.skills.create({ files: await skillFiles('titled'), display_name: 'My Title' });
    expect(titled.display_name).toBe('My Title');
  });

  it('agents: custom skills must exist in the workspace, Anthropic skills are refused', async () => {
    const skill = await client.beta.skills.create({ files: await skillFiles('agent-skill') });
    const base = { name: 'skilled', model: 'scripted-model' };
    const anthropic = await rejection(
      client.beta.agents.create({ ...base, skills: [{ type: 'anthropic', skill_id: 'xlsx' }] }),
    );
    expect(anthropic.status).toBe(400);
    expect(messageOf(anthropic)).toContain('skills[0].skill_id: "xlsx" is an Anthropic pre-built skill');
    const unknown = await rejection(
      client.beta.agents.create({ ...base, skills: [{ type: 'custom', skill_id: 'skill_000000000000000000000000' }] }),
    );
    expect(unknown.status).toBe(400);
    expect(messageOf(unknown)).toContain('no skill skill_000000000000000000000000');
    const badVersion = await rejection(
      client.beta.agents.create({
        ...base,
        skills: [{ type: 'custom', skill_id: skill.id, version: 'skillver_000000000000000000000000' }],
      }),
    );
    expect(messageOf(badVersion)).toContain('skills[0].version');

    const agent = await client.beta.agents.create({ ...base, skills: [{ type: 'custom', skill_id: skill.id }] });
    expect(agent.skills).toEqual([{ type: 'custom', skill_id: skill.id, version: 'latest' }]);
    const pinned = await client.beta.agents.update(agent.id, {
      version: agent.version,
      skills: [{ type: 'custom', skill_id: skill.id, version: skill.latest_version_id }],
    });
    expect(pinned.skills).toEqual([{ type: 'custom', skill_id: skill.id, version: skill.latest_version_id }]);
    const refused = await rejection(
      client.beta.agents.update(agent.id, {
        version: pinned.version,
        skills: [{ type: 'anthropic', skill_id: 'pdf' }],
      }),
    );
    expect(refused.status).toBe(400);
  });
});

describe.each([
  ['SQLite', (): Promise<Record<string, string>> => Promise.resolve({})],
  [
    'PostgreSQL',
    async (): Promise<Record<string, string>> => {
      postgres ??= await startPostgres();
      return { KEEL_DATABASE_URL: await postgres.createDatabase() };
    },
  ],
] as const)(
  'skills in sessions on a %s control plane: mounted read-only at /mnt/skills/<name>, in the system prompt',
  (name, environment) => {
    useStack(environment);

    it('the model sees the skill, reads SKILL.md, runs its script, and cannot write into its folder', async () => {
      expect(harness.config.database.kind).toBe(name === 'PostgreSQL' ? 'postgres' : 'sqlite');
      const skill = await client.beta.skills.create({ files: await skillFiles('session-report') });
      const agent = await client.beta.agents.create({
        name: 'skilled session',
        model: 'scripted-model',
        system: 'Be brief.',
        tools: [{ type: 'agent_toolset_20260401' }],
        skills: [{ type: 'custom', skill_id: skill.id }],
      });
      const environment = await client.beta.environments.create({ name: 'skills env', config: { type: 'cloud' } });
      const session = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
      expect(session.agent.system).toBe('Be brief.');
      expect(session.agent.skills).toEqual([{ type: 'custom', skill_id: skill.id, version: 'latest' }]);

      const before = harness.model.requests.length;
      const read = await bashTurn(client, harness.model, session.id, 'cat /mnt/skills/session-report/SKILL.md');
      const system = JSON.stringify(harness.model.requests[before]?.body.system ?? '');
      expect(system).toContain('Be brief.');
      expect(system).toContain('## session-report');
      expect(system).toContain('/mnt/skills/session-report/SKILL.md');
      expect(system).toContain('Writes short reports. Use when asked for a report.');
      expect(read).toContain('Run scripts/report.py <who>.');

      const ran = await bashTurn(
        client,
        harness.model,
        session.id,
        'python3 /mnt/skills/session-report/scripts/report.py alice',
      );
      expect(ran).toContain('report for alice');

      const write = await bashTurn(
        client,
        harness.model,
        session.id,
        'echo changed > /mnt/skills/session-report/SKILL.md; echo "exit=$?"',
      );
      expect(write).toContain('Read-only file system');
      expect(write).toContain('exit=1');
      const again = await bashTurn(client, harness.model, session.id, 'head -3 /mnt/skills/session-report/SKILL.md');
      expect(again).toContain('name: session-report');

      // A replaced container (cattle) mounts the session's skill version again, even once the skill itself is deleted.
      await client.beta.skills.delete(skill.id);
      await harness.docker.getContainer(sandboxContainerName(session.id)).remove({ force: true });
      const replaced = await bashTurn(
        client,
        harness.model,
        session.id,
        'python3 /mnt/skills/session-report/scripts/report.py bob; touch /mnt/skills/session-report/new.txt',
      );
      expect(replaced).toContain('report for bob');
      expect(replaced).toContain('Read-only file system');
    }, 120_000);

    it('sessions.create refuses an override naming an Anthropic skill, and skills in a self-hosted environment', async () => {
      const skill = await client.beta.skills.create({ files: await skillFiles('override-skill') });
      const agent = await client.beta.agents.create({ name: 'override', model: 'scripted-model' });
      const cloud = await client.beta.environments.create({ name: 'cloud', config: { type: 'cloud' } });
      const override = await rejection(
        client.beta.sessions.create({
          agent: { type: 'agent_with_overrides', id: agent.id, skills: [{ type: 'anthropic', skill_id: 'pdf' }] },
          environment_id: cloud.id,
        }),
      );
      expect(override.status).toBe(400);
      expect(messageOf(override)).toContain('agent.skills[0].skill_id: "pdf" is an Anthropic pre-built skill');
      const selfHosted = await client.beta.environments.create({ name: 'machines', config: { type: 'self_hosted' } });
      const refused = await rejection(
        client.beta.sessions.create({
          agent: { type: 'agent_with_overrides', id: agent.id, skills: [{ type: 'custom', skill_id: skill.id }] },
          environment_id: selfHosted.id,
        }),
      );
      expect(refused.status).toBe(400);
      expect(messageOf(refused)).toContain('agent.skills: environment');
    });
  },
);
