import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection, sdkClient } from './support/sdk';
import { startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let agentId: string;
let environmentId: string;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
  agentId = (await client.beta.agents.create({ name: 'reporter', model: 'scripted-model' })).id;
  environmentId = (await client.beta.environments.create({ name: 'reports', config: { type: 'cloud' } })).id;
});

afterAll(async () => {
  await harness?.stop();
});

const message = (text: string) => ({ type: 'user.message' as const, content: [{ type: 'text' as const, text }] });

/** Polls `read` until `done` holds (a scheduled fire runs on its own time), failing after `timeoutMs`. */
async function eventually<Value>(read: () => Promise<Value>, done: (value: Value) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Reads the session's events until it is idle after a turn, returning every event. */
async function idleEvents(sessionId: string) {
  return eventually(
    async () => {
      const events = [];
      for await (const event of client.beta.sessions.events.list(sessionId)) events.push(event);
      return events;
    },
    (events) => events.some((event) => event.type === 'session.status_idle'),
  );
}

describe('deployments and deployment runs through the official SDK', () => {
  it('creates, retrieves, updates, lists and archives deployments with the SDK shapes', async () => {
    const created = await client.beta.deployments.create({
      name: 'Daily report',
      description: 'Compiles the orders.',
      agent: agentId,
      environment_id: environmentId,
      initial_events: [message('Compile the orders.')],
      metadata: { team: 'ops' },
    });
    expect(created).toEqual({
      id: expect.stringMatching(/^depl_[0-9A-Za-z]{24}$/),
      type: 'deployment',
      name: 'Daily report',
      description: 'Compiles the orders.',
      agent: { type: 'agent', id: agentId, version: 1 },
      environment_id: environmentId,
      initial_events: [message('Compile the orders.')],
      metadata: { team: 'ops' },
      resources: [],
      vault_ids: [],
      schedule: null,
      status: 'active',
      paused_reason: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
      archived_at: null,
    });
    expect(await client.beta.deployments.retrieve(created.id)).toEqual(created);

    const updated = await client.beta.deployments.update(created.id, {
      name: 'Nightly report',
      description: null,
      metadata: { team: null, owner: 'alice' },
    });
    expect(updated).toMatchObject({ name: 'Nightly report', description: null, metadata: { owner: 'alice' } });

    const other = await client.beta.deployments.create({
      name: 'Other',
      agent: { type: 'agent', id: agentId, version: 1 },
      environment_id: environmentId,
      initial_events: [message('hello')],
    });
    const paused = await client.beta.deployments.pause(other.id);
    expect(paused).toMatchObject({ status: 'paused', paused_reason: { type: 'manual' } });
    const listed = [];
    for await (const deployment of client.beta.deployments.list({ limit: 1 })) listed.push(deployment.id);
    expect(listed.slice(0, 2)).toEqual([other.id, created.id]);
    const pausedOnly = await client.beta.deployments.list({ status: 'paused' });
    expect(pausedOnly.data.map((deployment) => deployment.id)).toEqual([other.id]);
    expect((await client.beta.deployments.unpause(other.id)).status).toBe('active');

    const archived = await client.beta.deployments.archive(other.id);
    expect(archived.archived_at).not.toBeNull();
    expect(archived.status).toBe('active');
    const active = await client.beta.deployments.list();
    expect(active.data.map((deployment) => deployment.id)).not.toContain(other.id);
    const all = await client.beta.deployments.list({ include_archived: true });
    expect(all.data.map((deployment) => deployment.id)).toContain(other.id);
    expect((await rejection(client.beta.deployments.run(other.id))).status).toBe(409);
    expect((await rejection(client.beta.deployments.retrieve('depl_000000000000000000000000'))).status).toBe(404);
  });

  it('refuses invalid deployments with 400s naming the field', async () => {
    const base = {
      name: 'bad',
      agent: agentId,
      environment_id: environmentId,
      initial_events: [message('x')],
    };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, initial_events: [] }, 'initial_events'],
      [{ ...base, initial_events: [{ type: 'user.interrupt' }] }, 'initial_events[0].type'],
      // Ordered as events.send takes them: a system.message last, right after a user.message.
      [
        { ...base, initial_events: [{ type: 'system.message', content: [{ type: 'text', text: 's' }] }] },
        'initial_events[0]',
      ],
      [
        {
          ...base,
          initial_events: [
            message('a'),
            { type: 'system.message', content: [{ type: 'text', text: 's' }] },
            message('b'),
          ],
        },
        'initial_events[1]',
      ],
      [{ ...base, agent: 'agent_000000000000000000000000' }, 'agent'],
      [{ ...base, environment_id: 'env_000000000000000000000000' }, 'environment_id'],
      [{ ...base, vault_ids: ['vlt_000000000000000000000000'] }, 'vault_ids'],
      [{ ...base, name: '' }, 'name'],
      [{ ...base, schedule: { type: 'cron', expression: '0 9 * *', timezone: 'UTC' } }, 'schedule.expression'],
      [{ ...base, schedule: { type: 'cron', expression: '0 9 * * *', timezone: 'Mars/Olympus' } }, 'schedule.timezone'],
      [{ ...base, schedule: { type: 'cron', expression: '0 9 L * *', timezone: 'UTC' } }, 'schedule.expression'],
    ];
    for (const [body, field] of cases) {
      const error = await rejection(client.beta.deployments.create(body as never));
      expect(error.status, field).toBe(400);
      expect(error.message, field).toContain(field);
    }
    const filter = await rejection(client.beta.deployments.list({ status: 'paused', include_archived: true }));
    expect(filter.status).toBe(400);
  });

  it('runs a deployment manually: a working session with deployment_id, a recorded run, sessions.list filter', async () => {
    const deployment = await client.beta.deployments.create({
      name: 'manual',
      agent: agentId,
      environment_id: environmentId,
      initial_events: [message('Say hello.')],
    });
    harness.model.enqueue({ kind: 'text', text: 'hello from the deployment' });
    const run = await client.beta.deployments.run(deployment.id);
    expect(run).toEqual({
      id: expect.stringMatching(/^drun_/),
      type: 'deployment_run',
      deployment_id: deployment.id,
      agent: { type: 'agent', id: agentId, version: 1 },
      session_id: expect.stringMatching(/^sesn_/),
      error: null,
      trigger_context: { type: 'manual' },
      created_at: expect.any(String),
    });
    const sessionId = run.session_id ?? '';
    const events = await idleEvents(sessionId);
    expect(JSON.stringify(events)).toContain('hello from the deployment');
    const session = await client.beta.sessions.retrieve(sessionId);
    expect(session.deployment_id).toBe(deployment.id);
    expect(session.agent.id).toBe(agentId);
    expect(session.environment_id).toBe(environmentId);

    // A session created directly is not the deployment's.
    const direct = await client.beta.sessions.create({ agent: agentId, environment_id: environmentId });
    expect((await client.beta.sessions.retrieve(direct.id)).deployment_id).toBeNull();
    const listed = await eventually(
      () => client.beta.sessions.list({ deployment_id: deployment.id }),
      (page) => page.data.length > 0,
    );
    expect(listed.data.map((item) => item.id)).toEqual([sessionId]);
    expect(listed.data[0]?.deployment_id).toBe(deployment.id);

    expect(await client.beta.deploymentRuns.retrieve(run.id)).toEqual(run);
    const runs = await client.beta.deploymentRuns.list({ deployment_id: deployment.id });
    expect(runs.data).toEqual([run]);
    expect((await client.beta.deploymentRuns.list({ deployment_id: deployment.id, has_error: true })).data).toEqual([]);
    expect((await client.beta.deploymentRuns.list({ deployment_id: 'depl_000000000000000000000000' })).data).toEqual(
      [],
    );
  });

  it('fires a cron schedule on Temporal, pauses and unpauses it, and auto-pauses on a run that cannot start', async () => {
    const scheduledAgent = await client.beta.agents.create({ name: 'scheduled', model: 'scripted-model' });
    const deployment = await client.beta.deployments.create({
      name: 'every minute',
      agent: scheduledAgent.id,
      environment_id: environmentId,
      initial_events: [message('Scheduled hello.')],
      schedule: { type: 'cron', expression: '*/1 * * * *', timezone: 'America/Los_Angeles' },
    });
    expect(deployment.schedule).toMatchObject({
      type: 'cron',
      expression: '*/1 * * * *',
      timezone: 'America/Los_Angeles',
      last_run_at: null,
    });
    expect(deployment.schedule?.upcoming_runs_at?.length).toBe(5);
    const handle = harness.stack.temporal.schedule.getHandle(deployment.id);
    const described = await handle.describe();
    expect(described.spec.timezone).toBe('America/Los_Angeles');
    expect(described.state.paused).toBe(false);

    // Fire it now through Temporal (the same path as a cron match), rather than wait for the minute.
    harness.model.enqueue({ kind: 'text', text: 'scheduled reply' });
    await handle.trigger();
    const runs = await eventually(
      () => client.beta.deploymentRuns.list({ deployment_id: deployment.id, trigger_type: 'schedule' }),
      (page) => page.data.length > 0,
    );
    const run = runs.data[0];
    expect(run).toMatchObject({
      deployment_id: deployment.id,
      error: null,
      trigger_context: { type: 'schedule', scheduled_at: expect.any(String) },
      session_id: expect.stringMatching(/^sesn_/),
    });
    expect(JSON.stringify(await idleEvents(run?.session_id ?? ''))).toContain('scheduled reply');
    expect((await client.beta.sessions.retrieve(run?.session_id ?? '')).deployment_id).toBe(deployment.id);
    const afterRun = await client.beta.deployments.retrieve(deployment.id);
    expect(afterRun.schedule?.last_run_at).not.toBeNull();

    // Pause and unpause reach the Temporal Schedule.
    await client.beta.deployments.pause(deployment.id);
    expect((await handle.describe()).state.paused).toBe(true);
    await client.beta.deployments.unpause(deployment.id);
    expect((await handle.describe()).state.paused).toBe(false);

    // An update of the schedule updates the Temporal Schedule.
    await client.beta.deployments.update(deployment.id, {
      schedule: { type: 'cron', expression: '0 9 * * 1-5', timezone: 'UTC' },
    });
    const respecified = await handle.describe();
    expect(respecified.spec.timezone).toBe('UTC');
    expect(JSON.stringify(respecified.spec)).toContain('9');

    // A fire whose agent is archived records a failed run and pauses the deployment with that reason.
    await client.beta.agents.archive(scheduledAgent.id);
    await handle.trigger();
    const failed = await eventually(
      () => client.beta.deploymentRuns.list({ deployment_id: deployment.id, has_error: true }),
      (page) => page.data.length > 0,
    );
    expect(failed.data[0]).toMatchObject({
      session_id: null,
      error: { type: 'agent_archived_error', message: expect.any(String) },
      trigger_context: { type: 'schedule' },
    });
    const autoPaused = await eventually(
      () => client.beta.deployments.retrieve(deployment.id),
      (value) => value.status === 'paused',
    );
    expect(autoPaused.paused_reason).toEqual({ type: 'error', error: { type: 'agent_archived_error' } });
    expect((await handle.describe()).state.paused).toBe(true);

    // Archiving deletes the Temporal Schedule.
    const archived = await client.beta.deployments.archive(deployment.id);
    expect(archived.schedule?.upcoming_runs_at).toEqual([]);
    await expect(handle.describe()).rejects.toThrow();
  });
});
