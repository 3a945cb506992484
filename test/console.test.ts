import type Anthropic from '@anthropic-ai/sdk';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { propertyOf, startConsoleHarness, saveScreenshot, waitForText } from './support/console-browser';
import type { ConsoleHarness } from './support/console-browser';
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

/** Opens the console in a new tab and signs in with `apiKey` (without waiting: the key may be refused). */
async function signIn(apiKey: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(consoleUrl);
  await page.locator('#api-key').fill(apiKey);
  await page.locator('button[type=submit]').click();
  return page;
}

/** Page code (a string: the test has no DOM types) that sets `window.keelSawStreaming` when a streaming preview shows. */
const STREAMING_RECORDER = `
  new MutationObserver(() => {
    if (document.querySelector('li[data-kind=agent][data-streaming=true]')) window.keelSawStreaming = true;
  }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
`;

describe('the web console at /console', () => {
  it('serves its page without an API key, and answers unknown console paths with a 404 in the Anthropic shape', async () => {
    const page = await fetch(consoleUrl);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/console/console.js');
    const script = await fetch(`${consoleUrl}/console.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    const missing = await fetch(`${consoleUrl}/nothing-here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    // What the page is told of the deployment: the dev server's Temporal UI, for the link to a session's Workflow.
    const config = await fetch(`${consoleUrl}/config.json`);
    expect(config.status).toBe(200);
    expect(await config.json()).toEqual({
      temporal_ui_url: harness.stack.temporalUiUrl,
      temporal_namespace: 'default',
    });
    // The API itself still needs the key.
    expect((await fetch(`${harness.stack.apiUrl}/v1/sessions`)).status).toBe(401);
  });

  it('signing in with a wrong key shows that the key was refused and stays on the sign-in form', async () => {
    const page = await signIn('not-the-key');
    const alert = await waitForText(page, '[role=alert]', '401');
    expect(alert).toContain('API key was refused');
    expect(await page.$('#api-key')).not.toBeNull();
    await saveScreenshot(page, 'console-sign-in-refused');
    await page.close();
  });

  it('lists a session, opens it, sends a message from the composer and shows the streamed reply and the tool call with its result', async () => {
    const agent = await client.beta.agents.create({
      name: 'console agent',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const environment = await client.beta.environments.create({ name: 'console env', config: { type: 'cloud' } });
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      title: 'console session',
    });

    const page = await signIn(TEST_API_KEY);
    // Records whether the agent's text was ever shown as a streaming preview (from event_delta), before its event.
    await page.evaluate(STREAMING_RECORDER);
    const row = await waitForText(page, `tr[data-session-id="${session.id}"]`, 'console session');
    expect(row).toContain('console agent');
    expect(row).toContain('idle');
    await page.locator(`tr[data-session-id="${session.id}"] a`).click();
    await waitForText(page, '#session-heading', 'console session');
    await waitForText(page, '[data-testid=session-status]', 'idle');

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo from-the-console' }, text: 'Running it.' },
      { kind: 'text', text: 'All done from the console.' },
    );
    await page.locator('#composer-text').fill('run it please');
    await page.locator('form.composer button[type=submit]').click();

    expect(await waitForText(page, 'li[data-kind=user]', 'run it please')).toContain('You: run it please');
    // The tool call shows its input, and its result once the sandbox ran it (folded in a <details>).
    const result = await waitForText(page, 'li[data-kind=tool] [data-kind=tool-result] pre', 'from-the-console');
    expect(result.trim()).toBe('from-the-console');
    const tool = await waitForText(page, 'li[data-kind=tool]', 'Tool call: bash');
    expect(tool).toContain('Tool call: bash');
    expect(tool).toContain('echo from-the-console');
    expect(await waitForText(page, 'li[data-kind=agent]', 'All done from the console.')).toBe(
      'All done from the console.',
    );
    await waitForText(page, 'li.status', 'Idle (end_turn)');
    expect(await page.evaluate('window.keelSawStreaming === true')).toBe(true);
    // The result is folded: its summary shows, its body only once opened.
    await page.locator('li[data-kind=tool] details summary').click();
    const details = await page.$('li[data-kind=tool] details');
    expect(details).not.toBeNull();
    expect(details === null ? '' : await propertyOf(details, 'open')).toBe('true');

    // Each event shows once, whether it came from the history listing or the live stream.
    const userMessages = await page.$$eval('li[data-kind=user]', (elements) => elements.length);
    expect(userMessages).toBe(1);
    await page.close();
  });
  it('asks for an always_ask tool call with Allow and Deny buttons, and shows the result of the allowed one and the denied answer', async () => {
    const agent = await client.beta.agents.create({
      name: 'console careful agent',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } }],
    });
    const environment = await client.beta.environments.create({ name: 'console env 2', config: { type: 'cloud' } });
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      title: 'console approvals',
    });
    const page = await signIn(TEST_API_KEY);
    await page.goto(`${consoleUrl}#/sessions/${session.id}`);
    await waitForText(page, '#session-heading', 'console approvals');

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo approved-call' } },
      { kind: 'text', text: 'Ran the approved one.' },
    );
    await page.locator('#composer-text').fill('please run it');
    await page.locator('form.composer button[type=submit]').click();
    await waitForText(page, 'li.status', 'waiting for your answer');
    await page.locator('li[data-kind=tool] button::-p-text(Allow)').click();
    expect((await waitForText(page, 'li[data-kind=tool] [data-kind=tool-result] pre', 'approved-call')).trim()).toBe(
      'approved-call',
    );
    await waitForText(page, 'li[data-kind=agent]', 'Ran the approved one.');

    harness.model.enqueue(
      { kind: 'tool_use', name: 'bash', input: { command: 'echo denied-call' } },
      { kind: 'text', text: 'Did not run it.' },
    );
    await page.locator('#composer-text').fill('and this one');
    await page.locator('form.composer button[type=submit]').click();
    await waitForText(page, 'li[data-kind=tool]', 'denied-call');
    await page.locator('li[data-kind=tool] button::-p-text(Deny)').click();
    expect(await waitForText(page, 'li[data-kind=tool]', 'Answer: deny')).toContain('denied-call');
    await waitForText(page, 'li[data-kind=agent]', 'Did not run it.');
    await page.close();
  });
  it('interrupts a running turn from the Interrupt button and shows the session back to idle', async () => {
    const session = await client.beta.sessions.create({
      agent: (await client.beta.agents.create({ name: 'console slow agent', model: 'scripted-model' })).id,
      environment_id: (await client.beta.environments.create({ name: 'console env 3', config: { type: 'cloud' } })).id,
      title: 'console interrupt',
    });
    const page = await signIn(TEST_API_KEY);
    await page.goto(`${consoleUrl}#/sessions/${session.id}`);
    await waitForText(page, '#session-heading', 'console interrupt');
    harness.model.enqueue({ kind: 'hang' });
    await page.locator('#composer-text').fill('take your time');
    await page.locator('form.composer button[type=submit]').click();
    await waitForText(page, '[data-testid=session-status]', 'running');
    await page.locator('button::-p-text(Interrupt)').click();
    await waitForText(page, 'li.status', 'Interrupted by the user');
    await waitForText(page, '[data-testid=session-status]', 'idle');
    await page.close();
  });
});
