import type Anthropic from '@anthropic-ai/sdk';
import type { BetaManagedAgentsSession } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sessionListingOf, toSessionListing } from '../common/session-listing';
import type { SessionSummary } from '../common/session';
import { DescendingScan } from '../server/sessions/listed-sessions';
import { createdWithin, sessionListQuery } from '../server/sessions/session-list-query';
import { toListedSessionView, toSessionView } from '../server/sessions/session-view';
import type { SessionExecution } from '../server/sessions/session-view';
import { sendAndWait, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';
import { sdkClient } from './support/sdk';

let harness: TestStack;
let client: Anthropic;

beforeAll(async () => {
  harness = await startTestStack();
  client = sdkClient(harness.stack.apiUrl);
});

afterAll(async () => {
  await harness?.stop();
});

/** How many plain sessions the listing test creates besides the three it changes. */
const PLAIN_SESSIONS = 100;
const VISIBILITY_WAIT_MS = 30_000;

/** A session object with its one field that moves on its own (`duration_seconds`) zeroed, to compare two reads. */
function settled(session: BetaManagedAgentsSession): unknown {
  return { ...session, stats: { ...session.stats, duration_seconds: 0 } };
}

/** Lists a page until `ready` accepts it (visibility is eventually consistent); fails after a while. */
async function listUntil(
  params: Anthropic.Beta.Sessions.SessionListParams,
  ready: (sessions: BetaManagedAgentsSession[]) => boolean,
): Promise<BetaManagedAgentsSession[]> {
  const deadline = Date.now() + VISIBILITY_WAIT_MS;
  for (;;) {
    const page = await client.beta.sessions.list(params);
    if (ready(page.data)) return page.data;
    if (Date.now() > deadline) throw new Error(`the listing did not catch up within ${VISIBILITY_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('sessions.list from Temporal visibility (the listing in each session memo)', () => {
  it('lists a page of 100 sessions without querying or describing any Workflow, and each listed session equals the retrieved one field by field', async () => {
    const agent = await client.beta.agents.create({
      name: 'listed coder',
      model: 'scripted-model',
      system: 'You list well.',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const environment = await client.beta.environments.create({ name: 'listing env', config: { type: 'cloud' } });
    for (let start = 0; start < PLAIN_SESSIONS; start += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, offset) =>
          // Every other session runs the server's default agent (a Keel extension: no `agent` in the request).
          (start + offset) % 2 === 0
            ? harness.client.createSession({ title: `plain ${start + offset}` })
            : client.beta.sessions.create({
                agent: agent.id,
                environment_id: environment.id,
                metadata: { index: String(start + offset) },
              }),
        ),
      );
    }
    const archived = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    await client.beta.sessions.archive(archived.id);
    const renamed = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    await client.beta.sessions.update(renamed.id, { title: 'renamed', metadata: { team: 'b' } });
    const worked = await client.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo listed' } },
      { kind: 'text', text: 'Listed.' },
    );
    const stream = await client.beta.sessions.events.stream(worked.id);
    await client.beta.sessions.events.send(worked.id, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'work' }] }],
    });
    for await (const event of stream) if (event.type === 'session.status_idle') break;
    stream.controller.abort();
    const workedNow = await client.beta.sessions.retrieve(worked.id);

    // Visibility catches up with the last changes: the turn's end, the rename.
    await listUntil({ limit: 100 }, (sessions) => {
      const listedWorked = sessions.find((session) => session.id === worked.id);
      const listedRenamed = sessions.find((session) => session.id === renamed.id);
      return listedWorked?.updated_at === workedNow.updated_at && listedRenamed?.title === 'renamed';
    });

    const service = harness.stack.temporal.connection.workflowService;
    const queries = vi.spyOn(service, 'queryWorkflow');
    const describes = vi.spyOn(service, 'describeWorkflowExecution');
    const listings = vi.spyOn(service, 'listWorkflowExecutions');
    let listed: BetaManagedAgentsSession[];
    try {
      listed = (await client.beta.sessions.list({ limit: 100 })).data;
      expect(queries).not.toHaveBeenCalled();
      expect(describes).not.toHaveBeenCalled();
      expect(listings.mock.calls.length).toBeGreaterThanOrEqual(1);
    } finally {
      vi.restoreAllMocks();
    }
    expect(listed).toHaveLength(100);
    expect(listed.map((session) => session.id)).not.toContain(archived.id);
    expect(listed.map((session) => session.id)).toEqual(expect.arrayContaining([renamed.id, worked.id]));

    for (const session of listed) {
      const retrieved = await client.beta.sessions.retrieve(session.id);
      expect(settled(session), `session ${session.id}`).toEqual(settled(retrieved));
      expect(retrieved.stats.duration_seconds).toBeGreaterThanOrEqual(session.stats.duration_seconds ?? 0);
    }
    const listedWorked = listed.find((session) => session.id === worked.id);
    expect(listedWorked).toMatchObject({ status: 'idle', usage: { output_tokens: workedNow.usage.output_tokens } });
    expect(listedWorked?.stats.active_seconds).toBeGreaterThan(0);
    expect(listed.find((session) => session.id === renamed.id)).toMatchObject({
      title: 'renamed',
      metadata: { team: 'b' },
    });

    const withArchived = await listUntil({ limit: 100, include_archived: true }, (sessions) =>
      sessions.some((session) => session.id === archived.id),
    );
    const listedArchived = withArchived.find((session) => session.id === archived.id);
    expect(listedArchived?.archived_at).toEqual(expect.any(String));
    expect(settled(listedArchived as BetaManagedAgentsSession)).toEqual(
      settled(await client.beta.sessions.retrieve(archived.id)),
    );

    // An ended session lists as terminated, with the times of its close.
    await client.beta.sessions.delete(worked.id);
    const ended = await client.beta.sessions.retrieve(worked.id);
    const afterDelete = await listUntil({ limit: 100 }, (sessions) =>
      sessions.some((session) => session.id === worked.id && session.status === 'terminated'),
    );
    expect(afterDelete.find((session) => session.id === worked.id)).toEqual(ended);

    // Page by page: newest first (each page read only as far as it needs) and oldest first (read whole) agree.
    const newestFirst: string[] = [];
    for await (const session of client.beta.sessions.list({ limit: 9 })) newestFirst.push(session.id);
    const oldestFirst: string[] = [];
    for await (const session of client.beta.sessions.list({ limit: 9, order: 'asc' })) oldestFirst.push(session.id);
    expect(newestFirst).toHaveLength(PLAIN_SESSIONS + 2);
    expect(newestFirst).toEqual([...oldestFirst].reverse());
    expect(newestFirst).toContain(worked.id);
  });
});

describe('sessions.list of a session that continued-as-new', () => {
  let continuing: TestStack;

  beforeAll(async () => {
    continuing = await startTestStack({ environment: { KEEL_CONTINUE_AS_NEW_AFTER_STEPS: '2' } });
  });

  afterAll(async () => {
    await continuing?.stop();
  });

  it("lists it once, as its latest run, equal to the retrieved session, and filters it by its first run's start", async () => {
    const sdk = sdkClient(continuing.stack.apiUrl);
    const { id } = await continuing.client.createSession({ title: 'continues' });
    continuing.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo 1' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo 2' } },
      { kind: 'tool_use', name: 'bash', input: { command: 'echo 3' } },
      { kind: 'text', text: 'three runs' },
    );
    await sendAndWait(continuing.client, id, 'go');
    const retrieved = await sdk.beta.sessions.retrieve(id);
    const deadline = Date.now() + VISIBILITY_WAIT_MS;
    let listed = (await sdk.beta.sessions.list({ limit: 10 })).data;
    while (listed.find((session) => session.id === id)?.updated_at !== retrieved.updated_at) {
      if (Date.now() > deadline) throw new Error('the listing did not catch up');
      await new Promise((resolve) => setTimeout(resolve, 200));
      listed = (await sdk.beta.sessions.list({ limit: 10 })).data;
    }
    expect(listed.filter((session) => session.id === id)).toHaveLength(1);
    expect(settled(listed.find((session) => session.id === id) as BetaManagedAgentsSession)).toEqual(
      settled(retrieved),
    );
    // Listings place it by its first run's start; its latest run started later, past an upper bound at that start.
    const runs = [];
    for await (const run of continuing.stack.temporal.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(run);
    const starts = runs.map((run) => run.startTime.getTime()).sort((a, b) => a - b);
    const firstStart = new Date(starts[0] ?? 0).toISOString();
    expect(runs.length).toBeGreaterThan(1);
    expect(starts.at(-1)).toBeGreaterThan(Date.parse(firstStart));
    const upTo = await sdk.beta.sessions.list({ 'created_at[lte]': firstStart });
    expect(upTo.data.map((session) => session.id)).toContain(id);
    const after = await sdk.beta.sessions.list({ 'created_at[gt]': firstStart });
    expect(after.data.map((session) => session.id)).not.toContain(id);
  });
});

describe('a session listing (pure)', () => {
  const summary: SessionSummary = {
    status: 'idle',
    usage: { input_tokens: 5, output_tokens: 7, cache_creation_input_tokens: 1, cache_read_input_tokens: 2 },
    eventCount: 9,
    queuedMessages: 0,
    title: 'a title',
    agent: { id: null, version: 1, name: 'keel-default', model: 'm', system: 'be brief', maxTokens: 10, tools: [] },
    createdAt: '2026-01-01T00:00:00.000Z',
    archivedAt: null,
    lastEvent: { type: 'session.status_idle', id: 'sevt_1', processed_at: '2026-01-01T00:00:03.000Z' } as never,
    activeTime: { closedMs: 2_000, runningSince: null },
  };
  const execution: SessionExecution = {
    workflowId: 'sesn_listing',
    status: { name: 'RUNNING' },
    startTime: new Date('2026-01-01T00:00:00.010Z'),
    closeTime: undefined,
    memo: { metadata: { a: 'b' }, agent: null, environment_id: null, resources: [], vault_ids: [] },
  };

  it('a session built from its listing equals the one built from its query answer', () => {
    const listing = toSessionListing(summary, { startedAt: '2026-01-01T00:00:00.010Z', withDefaultAgent: true });
    const fromListing = toListedSessionView({ ...execution, memo: { ...execution.memo, listing } }, listing);
    expect(settled(fromListing as never)).toEqual(settled(toSessionView(execution, summary) as never));
    expect(fromListing).toMatchObject({
      status: 'idle',
      updated_at: '2026-01-01T00:00:03.000Z',
      agent: { id: 'keel-default', name: 'keel-default', system: 'be brief' },
      stats: { active_seconds: 2, event_count: 9 },
    });
  });

  it('the visibility query takes the latest runs and only lower creation bounds; the whole filter is applied to first runs', () => {
    const query = sessionListQuery({
      limit: 10,
      createdAt: { gte: '2026-01-01T00:01:00.000Z', lt: '2026-01-02T00:00:00.000Z' },
    });
    expect(query).toBe(
      "WorkflowType = 'sessionWorkflow' AND ExecutionStatus != 'ContinuedAsNew' AND StartTime >= '2026-01-01T00:01:00.000Z'",
    );
    const bounds = { gte: '2026-01-01T00:01:00.000Z', lt: '2026-01-02T00:00:00.000Z' };
    expect(createdWithin('2026-01-01T00:01:00.000Z', bounds)).toBe(true);
    expect(createdWithin('2026-01-01T00:00:59.999Z', bounds)).toBe(false);
    expect(createdWithin('2026-01-02T00:00:00.000Z', bounds)).toBe(false);
    expect(createdWithin('2026-01-01T12:00:00.000Z', { gt: '2026-01-01T12:00:00.000Z' })).toBe(false);
    expect(createdWithin('2026-01-01T12:00:00.000Z', { lte: '2026-01-01T12:00:00.000Z' })).toBe(true);
  });

  it('memory store and deployment filters read the search attributes, or the earlier sessions the stores recorded', () => {
    const base = { limit: 10, createdAt: {} };
    expect(sessionListQuery({ ...base, memoryStoreId: 'memstore_a', deploymentId: 'depl_b' })).toBe(
      "WorkflowType = 'sessionWorkflow' AND ExecutionStatus != 'ContinuedAsNew' AND KeelMemoryStores = 'memstore_a' " +
        "AND KeelDeployment = 'depl_b'",
    );
    expect(
      sessionListQuery({ ...base, memoryStoreId: 'memstore_a', earlierMatches: { memoryStore: ['sesn_1', 'sesn_2'] } }),
    ).toBe(
      "WorkflowType = 'sessionWorkflow' AND ExecutionStatus != 'ContinuedAsNew' AND " +
        "(KeelMemoryStores = 'memstore_a' OR WorkflowId IN ('sesn_1', 'sesn_2'))",
    );
  });

  it('a newest-first scan stops once the wanted places are above every unread row, and never when rows come out of order', () => {
    const scan = new DescendingScan(2, []);
    expect(scan.row(100, 100)).toBe(false);
    expect(scan.row(90, 90)).toBe(false);
    // A continued session: its run started at 80, its first run at 10. The two wanted (100, 90) are above 80.
    expect(scan.row(80, 10)).toBe(true);
    expect(scan.places()).toEqual([100, 90]);
    const closed = new DescendingScan(2, scan.places());
    // A session closed at 95, first started at 95, takes a wanted place; an unread one may tie it until a row closed
    // earlier comes.
    expect(closed.row(95, 95)).toBe(false);
    expect(closed.row(93, 20)).toBe(true);
    expect(closed.places()).toEqual([100, 95]);
    const unordered = new DescendingScan(1, []);
    expect(unordered.row(50, 50)).toBe(false);
    expect(unordered.row(60, 60)).toBe(false);
    expect(unordered.row(10, 10)).toBe(false);
    // Rows left out (archived, outside the bounds) take no place but still lower the bound.
    const sparse = new DescendingScan(1, []);
    expect(sparse.row(100, null)).toBe(false);
    expect(sparse.row(70, 70)).toBe(false);
    expect(sparse.row(60, null)).toBe(true);
  });

  it('a memo without a listing (a session from before listings) reads as none, so the listing asks its Workflow', () => {
    expect(sessionListingOf(execution.memo)).toBeNull();
    expect(sessionListingOf(undefined)).toBeNull();
    expect(
      sessionListingOf({
        listing: toSessionListing(summary, { startedAt: '2026-01-01T00:00:00.010Z', withDefaultAgent: false }),
      }),
    ).toMatchObject({ eventCount: 9 });
    // An agent-less memo with a listing that carries no default agent cannot be shown without the Workflow.
    expect(
      toListedSessionView(
        execution,
        toSessionListing(summary, { startedAt: '2026-01-01T00:00:00.010Z', withDefaultAgent: false }),
      ),
    ).toBeNull();
  });
});
