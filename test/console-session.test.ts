import type Anthropic from '@anthropic-ai/sdk';
import { toFile } from '@anthropic-ai/sdk';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attributeOf,
  attributesOf,
  startConsoleHarness,
  saveScreenshot,
  signIn,
  textsOf,
  unlabelledControls,
  waitForText,
} from './support/console-browser';
import type { ConsoleHarness } from './support/console-browser';
import { allSessionEvents } from './support/sdk';
import { TEST_API_KEY } from './support/test-stack';
import type { TestStack } from './support/test-stack';

let harness: TestStack;
let client: Anthropic;
let browser: Browser;
let consoleUrl: string;
let opened: ConsoleHarness | undefined;

beforeAll(async () => {
  opened = await startConsoleHarness();
  ({ browser, harness, client, consoleUrl } = opened);
});

afterAll(async () => {
  await opened?.close();
});

/** A session of a fresh agent (`tools` as `agents.create` takes them) and environment. */
async function createSession(
  title: string,
  tools: Anthropic.Beta.Agents.AgentCreateParams['tools'],
  extra: Partial<Anthropic.Beta.Sessions.SessionCreateParams> = {},
): Promise<string> {
  const agent = await client.beta.agents.create({ name: `${title} agent`, model: 'scripted-model', tools });
  const environment = await client.beta.environments.create({ name: `${title} env`, config: { type: 'cloud' } });
  const session = await client.beta.sessions.create({
    agent: agent.id,
    environment_id: environment.id,
    title,
    ...extra,
  });
  return session.id;
}

/** Signs in and opens a session's page. */
async function openSession(sessionId: string, title: string): Promise<Page> {
  const page = await signIn(browser, consoleUrl, TEST_API_KEY);
  await page.goto(`${consoleUrl}#/sessions/${sessionId}`);
  await waitForText(page, '#session-heading', title);
  await waitForText(page, '[data-testid=connection]', 'Live');
  return page;
}

/** Types `text` in the composer and sends it. */
async function say(page: Page, text: string): Promise<void> {
  await page.locator('#composer-text').fill(text);
  await page.locator('form.composer button[type=submit]').click();
}

/** The event ids the transcript shows, in order (an event shows once at most). */
function shownIds(page: Page): Promise<string[]> {
  return attributesOf(page, 'ol.transcript > li[data-event-id]', 'data-event-id');
}

/**
 * Checks the transcript against the log: no event shows twice, and every logged event the page shows as its own item
 * (messages, tool calls, status changes) is there.
 */
async function expectTranscriptMatchesLog(page: Page, sessionId: string): Promise<void> {
  const shown = await shownIds(page);
  expect(new Set(shown).size).toBe(shown.length);
  const itemTypes = [
    'user.message',
    'agent.message',
    'agent.tool_use',
    'session.status_running',
    'session.status_idle',
  ];
  const logged = (await allSessionEvents(client, sessionId)).filter((event) => itemTypes.includes(event.type));
  expect(shown.filter((id) => logged.some((event) => event.id === id))).toEqual(logged.map((event) => event.id));
}

describe('the console session page', () => {
  it('answers a custom tool call from its form, and shows the Temporal UI link, resources, usage, budget and threads', async () => {
    const file = await client.beta.files.upload({ file: await toFile(Buffer.from('notes\n'), 'notes.txt') });
    const sessionId = await createSession(
      'console custom tool',
      [
        {
          type: 'custom',
          name: 'get_weather',
          description: 'Weather for a city',
          input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      ],
      { resources: [{ type: 'file', file_id: file.id, mount_path: '/workspace/notes.txt' }] },
    );
    const page = await openSession(sessionId, 'console custom tool');
    // The details panel: resources, budget, threads, and the Workflow's page in the dev server's Temporal UI.
    expect(await waitForText(page, '[data-testid=resources] li', file.id)).toBe(
      `File ${file.id} at /workspace/notes.txt`,
    );
    expect(await waitForText(page, '[data-testid=budget]', 'none')).toBe('none');
    const primaryThread = `sthr_${sessionId.slice('sesn_'.length)}`;
    expect(await waitForText(page, '[data-testid=threads]', primaryThread)).toMatch(/^Primary thread sthr_\S+: \w+$/);
    const link = String(await attributeOf(page, '[data-testid=temporal-link]', 'href'));
    expect(harness.stack.temporalUiUrl).not.toBeNull();
    expect(link).toBe(`${harness.stack.temporalUiUrl}/namespaces/default/workflows/${sessionId}`);
    // The Temporal UI opens that Workflow: its page names the Workflow's type.
    const temporalUi = await browser.newPage();
    await temporalUi.goto(link);
    await waitForText(temporalUi, 'body', 'sessionWorkflow');
    expect(await temporalUi.evaluate('window.location.href')).toContain(sessionId);
    await temporalUi.close();

    harness.model.enqueue(
      { kind: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } },
      { kind: 'text', text: 'It is cold in Oslo.' },
    );
    await say(page, 'weather in Oslo?');
    await waitForText(page, 'li[data-kind=tool][data-custom=true]', 'Custom tool call: get_weather');
    await waitForText(page, 'li.status', 'waiting for your answer');
    expect(await unlabelledControls(page)).toEqual([]);
    await page.locator('li[data-kind=tool] textarea').fill('-12 C and snowing');
    await saveScreenshot(page, 'console-session-custom-tool');
    await page.locator('button::-p-text(Send result)').click();
    expect(await waitForText(page, 'li[data-kind=agent]', 'It is cold in Oslo.')).toBe('It is cold in Oslo.');
    expect((await waitForText(page, 'li[data-kind=tool] [data-kind=tool-result] pre', '-12 C')).trim()).toBe(
      '-12 C and snowing',
    );
    const events = await allSessionEvents(client, sessionId);
    expect(events.find((event) => event.type === 'user.custom_tool_result')).toMatchObject({
      content: [{ type: 'text', text: '-12 C and snowing' }],
    });
    expect(JSON.stringify(harness.model.requests.at(-1)?.body.messages)).toContain('-12 C and snowing');
    // Usage is read again once the turn ended: the scripted model reports tokens.
    await waitForText(page, 'li.status', 'Idle (end_turn)');
    const usage = await waitForText(page, '[data-testid=usage]', 'Input tokens');
    expect(usage).not.toMatch(/Input tokens0Output tokens0/);
    await saveScreenshot(page, 'console-session');
    await page.close();
  });

  it('allows one always_ask call and denies another with a reason, and shows both outcomes', async () => {
    const sessionId = await createSession('console deny reason', [
      { type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } },
    ]);
    const page = await openSession(sessionId, 'console deny reason');
    harness.model.enqueue(
      {
        kind: 'tool_uses',
        calls: [
          { name: 'bash', input: { command: 'echo allowed-one' } },
          { name: 'bash', input: { command: 'echo denied-one' } },
        ],
      },
      { kind: 'text', text: 'One ran, one was refused.' },
    );
    await say(page, 'run both');
    await waitForText(page, 'li.status', 'waiting for your answer');
    await page.locator('li[data-kind=tool]:has(form) ::-p-text(Allow)').click();
    const deniedItem = 'li[data-kind=tool]:nth-of-type(n):has(form)';
    await waitForText(page, 'li[data-kind=tool]', 'Answer: allow');
    await page.locator(`${deniedItem} input[type=text]`).fill('not this one');
    await page.locator(`${deniedItem} button::-p-text(Deny)`).click();
    expect(await waitForText(page, 'li[data-kind=tool]', 'Answer: deny (not this one)')).toContain('denied-one');
    expect((await waitForText(page, 'li[data-kind=tool] [data-kind=tool-result] pre', 'allowed-one')).trim()).toBe(
      'allowed-one',
    );
    await waitForText(page, 'li[data-kind=agent]', 'One ran, one was refused.');
    const confirmations = (await allSessionEvents(client, sessionId)).filter(
      (event) => event.type === 'user.tool_confirmation',
    );
    expect(confirmations.map((event) => [event.result, event.deny_message ?? null])).toEqual([
      ['allow', null],
      ['deny', 'not this one'],
    ]);
    await page.close();
  });

  it('interrupts a `sleep 60` tool call from the Interrupt button within seconds', async () => {
    const sessionId = await createSession('console sleep', [{ type: 'agent_toolset_20260401' }]);
    const page = await openSession(sessionId, 'console sleep');
    harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'sleep 60' } });
    await say(page, 'sleep a while');
    await waitForText(page, 'li[data-kind=tool]', 'sleep 60');
    await waitForText(page, '[data-testid=session-status]', 'running');
    // Give the command time to start in the sandbox, then interrupt it.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const interruptedAt = Date.now();
    await page.locator('button::-p-text(Interrupt)').click();
    await waitForText(page, 'li.status', 'Interrupted by the user', 30_000);
    await waitForText(page, '[data-testid=session-status]', 'idle', 30_000);
    expect(Date.now() - interruptedAt).toBeLessThan(30_000);
    await expectTranscriptMatchesLog(page, sessionId);
    await page.close();
  });

  it('after a reload mid-turn shows the same transcript, each event once, and follows the turn to its end', async () => {
    const sessionId = await createSession('console reload', [{ type: 'agent_toolset_20260401' }]);
    const page = await openSession(sessionId, 'console reload');
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'sleep 3; echo after-the-reload' }, text: 'Working.' },
      { kind: 'text', text: 'Finished after the reload.' },
    );
    await say(page, 'work through a reload');
    await waitForText(page, 'li[data-kind=tool]', 'after-the-reload');
    const before = await shownIds(page);
    await page.reload();
    await waitForText(page, '#session-heading', 'console reload');
    await waitForText(page, 'li[data-kind=agent]', 'Finished after the reload.');
    await waitForText(page, 'li.status', 'Idle (end_turn)');
    const after = await shownIds(page);
    expect(after.slice(0, before.length)).toEqual(before);
    await expectTranscriptMatchesLog(page, sessionId);
    await page.close();
  });

  it('after a network drop mid-turn reconnects with Last-Event-ID and shows every event once, nothing lost', async () => {
    const sessionId = await createSession('console network drop', [{ type: 'agent_toolset_20260401' }]);
    const page = await openSession(sessionId, 'console network drop');
    const streamRequests: Array<Record<string, string>> = [];
    page.on('request', (request) => {
      if (request.url().includes('/events/stream')) streamRequests.push(request.headers());
    });
    await page.evaluate('window.keelNotReloaded = true');
    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'sleep 4; echo during-the-drop' } },
      { kind: 'text', text: 'Back online and done.' },
    );
    await say(page, 'keep going while I am offline');
    await waitForText(page, 'li[data-kind=tool]', 'during-the-drop');
    // The drop: the browser goes offline (new requests fail) and the server's end of every open connection is cut, the
    // event stream among them (Chromium's offline mode alone leaves an open loopback stream open).
    await page.setOfflineMode(true);
    harness.stack.server.server.closeAllConnections();
    await waitForText(page, '[data-testid=connection]', 'Reconnecting');
    // The turn goes on while the page is offline: the tool result, the reply and the idle all happen then.
    const deadline = Date.now() + 60_000;
    while (!(await allSessionEvents(client, sessionId)).some((event) => event.type === 'session.status_idle')) {
      if (Date.now() > deadline) throw new Error('the turn did not end within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(await textsOf(page, 'li[data-kind=agent]')).not.toContain('Back online and done.');
    await page.setOfflineMode(false);
    await waitForText(page, 'li[data-kind=agent]', 'Back online and done.');
    await waitForText(page, 'li.status', 'Idle (end_turn)');
    expect((await waitForText(page, 'li[data-kind=tool] [data-kind=tool-result] pre', 'during-the-drop')).trim()).toBe(
      'during-the-drop',
    );
    await waitForText(page, '[data-testid=connection]', 'Live');
    expect(await page.evaluate('window.keelNotReloaded === true')).toBe(true);
    // The stream was opened again from the last event the page had, not from scratch.
    const resumed = streamRequests.filter((headers) => headers['last-event-id'] !== undefined);
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed.at(-1)?.['last-event-id']).toMatch(/^sevt_/);
    await expectTranscriptMatchesLog(page, sessionId);
    await page.close();
  });

  it('sessions list: filters by agent, and shows a status change without a reload (screenshot for the README)', async () => {
    const watched = await createSession('console list watched', [{ type: 'agent_toolset_20260401' }]);
    const other = await createSession('console list other', [{ type: 'agent_toolset_20260401' }]);
    const watchedAgent = (await client.beta.sessions.retrieve(watched)).agent.id;
    const page = await signIn(browser, consoleUrl, TEST_API_KEY);
    await waitForText(page, 'tr[data-session-id]', 'console list other');
    await waitForText(page, 'tr[data-session-id]', 'console custom tool');
    expect(await unlabelledControls(page)).toEqual([]);
    await saveScreenshot(page, 'console-sessions');

    // One agent's sessions only.
    await waitForText(page, '#agent-filter option', 'console list watched agent');
    await page.select('#agent-filter', watchedAgent);
    await waitForText(page, `tr[data-session-id="${watched}"]`, 'idle');
    const deadline = Date.now() + 10_000;
    while ((await attributesOf(page, 'tr[data-session-id]', 'data-session-id')).includes(other)) {
      if (Date.now() > deadline) throw new Error("the agent filter left another agent's session in the list");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await attributesOf(page, 'tr[data-session-id]', 'data-session-id')).toEqual([watched]);

    // The session runs, then is interrupted: the list follows without a reload.
    harness.model.enqueue({ kind: 'tool_use', name: 'bash', input: { command: 'sleep 60' } });
    await client.beta.sessions.events.send(watched, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'sleep a while' }] }],
    });
    await waitForText(page, `tr[data-session-id="${watched}"]`, 'running', 30_000);
    await client.beta.sessions.events.send(watched, { events: [{ type: 'user.interrupt' }] });
    await waitForText(page, `tr[data-session-id="${watched}"]`, 'idle', 30_000);
    await page.close();
  });
});
