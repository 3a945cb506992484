import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import puppeteer from 'puppeteer-core';
import type { Browser, ElementHandle, Page } from 'puppeteer-core';
import { PROJECT_ROOT } from '../../common/config';
import { sdkClient } from './sdk';
import { startTestStack } from './test-stack';
import type { TestStack } from './test-stack';

/** Where the console's tests write screenshots of its main pages, linked from the README's console section. */
export const CONSOLE_SCREENSHOTS_DIR = path.join(PROJECT_ROOT, 'test', 'screenshots');

/** The Chromium the set-up found or installed (scripts/setup/chromium.sh); missing, the tests fail, never skip. */
export function chromiumPath(): string {
  const record = path.join(PROJECT_ROOT, '.keel', 'tools', 'chromium-path');
  const executable = existsSync(record) ? readFileSync(record, 'utf8').trim() : '';
  if (executable === '' || !existsSync(executable)) {
    throw new Error(
      'Chromium is missing: run `bash scripts/setup.sh --tests` (it installs Debian chromium) before these tests',
    );
  }
  return executable;
}

/** A headless Chromium for the console's tests. */
export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // Chromium's own sandbox refuses to run as root, which is how tests run in CI; the page is our own.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** What a console test file drives: a headless Chromium, a real stack with the scripted model, and an SDK client. */
export interface ConsoleHarness {
  browser: Browser;
  harness: TestStack;
  client: Anthropic;
  /** The console's address on the stack's server. */
  consoleUrl: string;
  close(): Promise<void>;
}

/** Launches Chromium and starts a test stack for a console test file (`close` in its `afterAll`). */
export async function startConsoleHarness(): Promise<ConsoleHarness> {
  const browser = await launchBrowser();
  const harness = await startTestStack().catch(async (error: unknown) => {
    await browser.close();
    throw error;
  });
  return {
    browser,
    harness,
    client: sdkClient(harness.stack.apiUrl),
    consoleUrl: `${harness.stack.apiUrl}/console`,
    close: async () => {
      await browser.close();
      await harness.stop();
    },
  };
}

/** Opens the console at `consoleUrl` in a new tab and signs in with `apiKey`. */
export async function signIn(browser: Browser, consoleUrl: string, apiKey: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(consoleUrl);
  await page.locator('#api-key').fill(apiKey);
  await page.locator('button[type=submit]').click();
  await page.waitForSelector('nav[aria-label=Main]');
  return page;
}

/** A DOM property of an element, read as a string (the tests run without the DOM's types). */
export async function propertyOf(handle: ElementHandle, name: string): Promise<string> {
  return String(await (await handle.getProperty(name)).jsonValue());
}

/** The texts of every element matching `selector`. */
export async function textsOf(page: Page, selector: string): Promise<string[]> {
  return Promise.all((await page.$$(selector)).map((handle) => propertyOf(handle, 'textContent')));
}

/** The text of the first element matching `selector` whose text contains `text`, once there is one (within 60 s). */
export async function waitForText(page: Page, selector: string, text: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let texts: string[] = [];
  while (Date.now() < deadline) {
    texts = await textsOf(page, selector);
    const found = texts.find((candidate) => candidate.includes(text));
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `no ${selector} with ${JSON.stringify(text)} within ${timeoutMs} ms; texts: ${JSON.stringify(texts)}`,
  );
}

/** Writes a PNG of the whole page as `test/screenshots/<name>.png`. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(CONSOLE_SCREENSHOTS_DIR, { recursive: true });
  const file = path.join(CONSOLE_SCREENSHOTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Every form control on the page without a label: its id or tag. A control counts as labelled by a `<label for>`, a
 * wrapping `<label>`, or `aria-label` / `aria-labelledby` (hidden inputs and buttons with text do not need one).
 */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const controls = [...document.querySelectorAll('input, select, textarea')];
    return controls
      .filter((control) => control.type !== 'hidden')
      .filter((control) => control.labels.length === 0 && !control.getAttribute('aria-label') && !control.getAttribute('aria-labelledby'))
      .map((control) => control.id || control.tagName.toLowerCase());
  })()`)) as string[];
}

/** An attribute of the first element matching `selector`, or `null` (read in the page: the tests have no DOM types). */
export async function attributeOf(page: Page, selector: string, name: string): Promise<string | null> {
  const script = `document.querySelector(${JSON.stringify(selector)})?.getAttribute(${JSON.stringify(name)}) ?? null`;
  return (await page.evaluate(script)) as string | null;
}

/** The attribute `name` of every element matching `selector`, in document order. */
export async function attributesOf(page: Page, selector: string, name: string): Promise<string[]> {
  const script = `[...document.querySelectorAll(${JSON.stringify(selector)})].map((element) => element.getAttribute(${JSON.stringify(name)}) ?? '')`;
  return (await page.evaluate(script)) as string[];
}

/** The value of the form control matching `selector`. */
export async function valueOf(page: Page, selector: string): Promise<string> {
  return String(await page.evaluate(`document.querySelector(${JSON.stringify(selector)}).value`));
}

/** Empties the form control matching `selector`, so `fill` types into a blank one. */
export async function clearValue(page: Page, selector: string): Promise<void> {
  await page.evaluate(`document.querySelector(${JSON.stringify(selector)}).value = ''`);
}
