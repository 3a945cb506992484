import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attributeOf,
  clearValue,
  startConsoleHarness,
  valueOf,
  saveScreenshot,
  signIn,
  textsOf,
  unlabelledControls,
  waitForText,
} from './support/console-browser';
import type { ConsoleHarness } from './support/console-browser';
import { TEST_API_KEY } from './support/test-stack';

let client: Anthropic;
let browser: Browser;
let consoleUrl: string;
let opened: ConsoleHarness | undefined;
const scratch = mkdtempSync(path.join(tmpdir(), 'keel-console-pages-'));

beforeAll(async () => {
  opened = await startConsoleHarness();
  ({ browser, client, consoleUrl } = opened);
});

afterAll(async () => {
  await opened?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Opens a section of the console, signed in. */
async function open(section: string): Promise<Page> {
  const page = await signIn(browser, consoleUrl, TEST_API_KEY);
  await page.goto(`${consoleUrl}#/${section}`);
  return page;
}

/** Waits until `check` holds (polling every 100 ms, within 30 s). */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} within 30 s`);
}

describe('the console pages for agents, environments, vaults and files', () => {
  it('agents page: creates an agent from the form and one from JSON, saves a second version and shows both versions side by side', async () => {
    const page = await open('agents');
    await page.waitForSelector('#agent-name');
    expect(await unlabelledControls(page)).toEqual([]);
    await page.locator('#agent-name').fill('form agent');
    await page.locator('#agent-model').fill('scripted-model');
    await page.locator('#agent-system').fill('Be brief.');
    await page.select('#agent-policy', 'always_ask');
    await page.locator('button::-p-text(Create agent)').click();
    await waitForText(page, '#versions-heading', 'form agent');
    const formAgentId = decodeURIComponent(String(await page.evaluate('window.location.hash')).split('/')[2] ?? '');
    const formAgent = await client.beta.agents.retrieve(formAgentId);
    expect(formAgent).toMatchObject({ name: 'form agent', model: { id: 'scripted-model' }, system: 'Be brief.' });
    expect(formAgent.tools).toMatchObject([
      { type: 'agent_toolset_20260401', default_config: { permission_policy: { type: 'always_ask' } } },
    ]);

    const definition = { name: 'json agent', model: 'scripted-model', system: 'First prompt.', tools: [] };
    await clearValue(page, '#agent-json');
    await page.locator('#agent-json').fill(JSON.stringify(definition));
    await page.locator('button::-p-text(Create agent from JSON)').click();
    await waitForText(page, '#versions-heading', 'json agent');
    const jsonAgentId = decodeURIComponent(String(await page.evaluate('window.location.hash')).split('/')[2] ?? '');
    expect(jsonAgentId).not.toBe(formAgentId);
    expect(await client.beta.agents.retrieve(jsonAgentId)).toMatchObject({
      name: 'json agent',
      system: 'First prompt.',
    });

    // A second version from the JSON box, prefilled with the current definition.
    await waitForText(page, 'button', 'Save as version 2');
    const current = JSON.parse(String(await valueOf(page, '#agent-version-json'))) as Record<string, unknown>;
    expect(current).toMatchObject({ name: 'json agent', system: 'First prompt.' });
    await clearValue(page, '#agent-version-json');
    await page.locator('#agent-version-json').fill(JSON.stringify({ ...current, system: 'Second prompt.' }));
    await page.locator('button::-p-text(Save as version 2)').click();
    await waitForText(page, '[data-testid=agent-versions] th', 'Version 2');
    const headings = await textsOf(page, '[data-testid=agent-versions] thead th');
    expect(headings).toEqual(['Field', 'Version 1', 'Version 2']);
    const systemRow = await textsOf(page, '[data-testid=agent-versions] tr[data-field=system] td');
    expect(systemRow).toEqual(['First prompt.', 'Second prompt.']);
    expect(await attributeOf(page, 'tr[data-field=system]', 'data-changed')).toBe('true');
    expect(await attributeOf(page, 'tr[data-field=name]', 'data-changed')).toBe('false');
    const versions = [];
    for await (const version of client.beta.agents.versions.list(jsonAgentId)) versions.push(version);
    expect(versions.map((version) => [version.version, version.system]).sort()).toEqual([
      [1, 'First prompt.'],
      [2, 'Second prompt.'],
    ]);
    // The list shows both agents, the JSON one at version 2.
    expect(await waitForText(page, `tr[data-agent-id="${jsonAgentId}"]`, 'json agent')).toContain('2');
    await saveScreenshot(page, 'console-agents');

    // A JSON body the API refuses shows the API's error, naming the field.
    await clearValue(page, '#agent-json');
    await page.locator('#agent-json').fill(JSON.stringify({ model: 'scripted-model' }));
    await page.locator('button::-p-text(Create agent from JSON)').click();
    expect(await waitForText(page, '[role=alert]', '400')).toContain('name');
    await page.close();
  });

  it('environments page: creates a limited-network environment from the form and lists it', async () => {
    const page = await open('environments');
    await page.waitForSelector('#environment-name');
    expect(await unlabelledControls(page)).toEqual([]);
    await page.locator('#environment-name').fill('console limited env');
    await page.locator('#environment-description').fill('for the console test');
    await page.select('#environment-network', 'limited');
    await page.locator('button::-p-text(Create environment)').click();
    const row = await waitForText(page, 'tr[data-environment-id]', 'console limited env');
    expect(row).toContain('cloud, network limited');
    expect(row).toContain('for the console test');
    const listed = [];
    for await (const environment of client.beta.environments.list()) listed.push(environment);
    expect(listed.find((environment) => environment.name === 'console limited env')).toMatchObject({
      description: 'for the console test',
      config: { type: 'cloud', networking: { type: 'limited' } },
    });
    await saveScreenshot(page, 'console-environments');
    await page.close();
  });

  it('vaults page: creates a vault, adds a bearer credential, and shows what it is for but never the token', async () => {
    const token = 'tok-console-secret-8c41f0';
    const page = await open('vaults');
    await page.waitForSelector('#vault-name');
    await page.locator('#vault-name').fill('console vault');
    await page.locator('button::-p-text(Create vault)').click();
    await waitForText(page, 'article[data-vault-id] h2', 'console vault');
    const vaultId = String(await attributeOf(page, 'article[data-vault-id]', 'data-vault-id'));
    expect(await unlabelledControls(page)).toEqual([]);
    await page.locator(`[id="credential-name-${vaultId}"]`).fill('docs server');
    await page.locator(`[id="credential-url-${vaultId}"]`).fill('https://mcp.example.test/mcp');
    await page.locator(`[id="credential-token-${vaultId}"]`).fill(token);
    await page.locator('button::-p-text(Add credential)').click();
    const credential = await waitForText(page, 'li[data-credential-id]', 'docs server');
    expect(credential).toBe('docs server: Bearer token for https://mcp.example.test/mcp');
    // The token is nowhere on the page: not in the list, not left in the form.
    expect(await page.content()).not.toContain(token);
    expect(await valueOf(page, `[id="credential-token-${vaultId}"]`)).toBe('');
    const credentials = [];
    for await (const stored of client.beta.vaults.credentials.list(vaultId)) credentials.push(stored);
    expect(credentials).toMatchObject([
      { display_name: 'docs server', auth: { type: 'static_bearer', mcp_server_url: 'https://mcp.example.test/mcp' } },
    ]);
    await saveScreenshot(page, 'console-vaults');
    await page.close();
  });

  it('files page: uploads a file from the file picker, lists it, and downloads the same bytes', async () => {
    const content = `console upload ${Date.now()}\n${'x'.repeat(2000)}\n`;
    const source = path.join(scratch, 'notes-from-console.txt');
    writeFileSync(source, content);
    const page = await open('files');
    await page.waitForSelector('#file-input');
    expect(await unlabelledControls(page)).toEqual([]);
    const input = await page.$('#file-input');
    await (input as unknown as { uploadFile(file: string): Promise<void> }).uploadFile(source);
    await page.locator('button::-p-text(Upload)').click();
    const row = await waitForText(page, 'tr[data-file-id]', 'notes-from-console.txt');
    expect(row).toContain('text/plain');
    const fileId = String(await attributeOf(page, 'tr[data-file-id]', 'data-file-id'));
    expect(await (await client.beta.files.download(fileId)).text()).toBe(content);

    const downloads = path.join(scratch, 'downloads');
    const session = await page.createCDPSession();
    await session.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await page.locator('button[aria-label="Download notes-from-console.txt"]').click();
    const saved = path.join(downloads, 'notes-from-console.txt');
    await until(() => existsSync(saved) && readFileSync(saved, 'utf8') === content, 'the download saved');
    await saveScreenshot(page, 'console-files');
    await page.close();
  });

  it('keyboard: the main navigation is reached with Tab and followed with Enter', async () => {
    const page = await open('sessions');
    await page.waitForSelector('#sessions-heading');
    let focused = '';
    for (let step = 0; step < 10 && focused !== 'Vaults'; step += 1) {
      await page.keyboard.press('Tab');
      focused = String(await page.evaluate('document.activeElement?.textContent ?? ""'));
    }
    expect(focused).toBe('Vaults');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#vaults-heading');
    expect(await page.evaluate('window.location.hash')).toBe('#/vaults');
    expect(await textsOf(page, 'nav a[aria-current=page]')).toEqual(['Vaults']);
    await page.close();
  });
});
