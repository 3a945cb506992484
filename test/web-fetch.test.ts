import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWebFetchActivities } from '../activities/web-fetch/create-web-fetch-activities';
import type { WebFetchActivityOptions } from '../activities/web-fetch/create-web-fetch-activities';
import { isNonPublicAddress } from '../activities/outbound-addresses';
import { webFetch } from '../activities/web-fetch/web-fetch';
import { resolveWebFetchActivityOptions } from '../activities/web-fetch/web-fetch-options';
import { domainMatches, webFetchRefusal } from '../activities/web-fetch/web-fetch-policy';
import { DEFAULT_SANDBOX_ENVIRONMENT } from '../common/sandbox';
import type { SandboxNetworking } from '../common/sandbox';
import type { WebFetchInput } from '../common/web-fetch';

const PAGE = `<!doctype html><html><head><title>Order status</title><style>body { color: red }</style>
<script>console.log('not text')</script></head><body><h1>Order A-1042</h1><p>Shipped on <b>Monday</b>.
See <a href="https://example.com/track">tracking</a> and <a href="/faq#shipping">the FAQ</a>.</p><img src="truck.png" alt="truck"><ul><li>2 items</li>
<li>Paid</li></ul></body></html>`;

/** A loopback HTTP server with a route per scenario; it records the requests it received. */
class ScenarioServer {
  readonly requests: string[] = [];
  private readonly server: Server;

  constructor(private readonly host: string) {
    this.server = createServer((request, response) => this.handle(request, response));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, this.host, () => resolve());
    });
    return this;
  }

  get origin(): string {
    return `http://${this.host}:${(this.server.address() as AddressInfo).port}`;
  }

  get hostAndPort(): string {
    return `${this.host}:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.origin);
    this.requests.push(url.pathname + url.search);
    const chain = /^\/chain\/(\d+)$/.exec(url.pathname);
    if (chain !== null) {
      const left = Number(chain[1]);
      response.writeHead(302, { location: left === 0 ? '/plain.txt' : `/chain/${left - 1}` }).end();
      return;
    }
    switch (url.pathname) {
      case '/page.html':
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
        return;
      case '/page.gz':
        response
          .writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' })
          .end(gzipSync(Buffer.from(PAGE)));
        return;
      case '/plain.txt':
        response.writeHead(200, { 'content-type': 'text/plain' }).end('plain body text');
        return;
      case '/latin1.txt':
        response
          .writeHead(200, { 'content-type': 'text/plain; charset=iso-8859-1' })
          .end(Buffer.from([0x63, 0x61, 0x66, 0xe9]));
        return;
      case '/data.json':
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"shipped"}');
        return;
      case '/no-type':
        response.writeHead(200).end('untyped but text');
        return;
      case '/image.png':
        response.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]));
        return;
      case '/missing':
        response.writeHead(404, { 'content-type': 'text/html' }).end('<html><body><p>No such page</p></body></html>');
        return;
      case '/redirect':
        response.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
        return;
      case '/loop':
        response.writeHead(301, { location: '/loop' }).end();
        return;
      case '/big':
        response.writeHead(200, { 'content-type': 'text/plain' });
        this.streamForever(response);
        return;
      case '/stall-headers':
        return;
      case '/stall-body':
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.write('first bytes');
        return;
      default:
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  }

  /** Writes lines until the client goes away, so only the size cap can end the read. */
  private streamForever(response: ServerResponse): void {
    const line = 'x'.repeat(1023) + '\n';
    let index = 0;
    const write = (): void => {
      while (!response.destroyed && response.write(index++ === 0 ? `FIRST-LINE${line.slice(10)}` : line));
      if (!response.destroyed) response.once('drain', write);
    };
    write();
  }
}

const primary = new ScenarioServer('127.0.0.1');
const other = new ScenarioServer('127.0.0.2');

beforeAll(async () => {
  await primary.start();
  await other.start();
});

afterAll(async () => {
  await primary.stop();
  await other.stop();
});

function limitedTo(...allowedHosts: string[]): SandboxNetworking {
  return { type: 'limited', allowedHosts, allowPackageManagers: false, allowMcpServers: false };
}

function fetchInput(url: string, overrides: Partial<WebFetchInput> = {}): WebFetchInput {
  return { sessionId: 'sesn_web_fetch_test', url, networking: limitedTo(primary.hostAndPort), ...overrides };
}

function fetcher(options: WebFetchActivityOptions = {}): (input: WebFetchInput) => ReturnType<typeof webFetch> {
  return createWebFetchActivities(options).webFetch;
}

describe('webFetch', () => {
  it('fetches an HTML page from an allowed host and converts it to readable text', async () => {
    const result = await fetcher()(fetchInput(`${primary.origin}/page.html`));

    expect(result.isError).toBe(false);
    expect(result.output).toContain(`URL: ${primary.origin}/page.html`);
    expect(result.output).toContain('Status: 200 OK');
    expect(result.output).toContain('Content-Type: text/html');
    expect(result.output).toContain('Title: Order status');
    expect(result.output).toContain('Order A-1042');
    expect(result.output).toContain('Shipped on Monday.');
    expect(result.output).toContain('tracking [https://example.com/track]');
    expect(result.output).toContain(`the FAQ [${primary.origin}/faq#shipping]`);
    expect(result.output).toContain('* 2 items');
    expect(result.output).not.toMatch(/<\w|console\.log|color: red|truck\.png/);
  });

  it('reads gzip bodies, plain text, JSON, a declared charset and untyped text as they are', async () => {
    const fetch = fetcher();

    const gzipped = await fetch(fetchInput(`${primary.origin}/page.gz`));
    const plain = await fetch(fetchInput(`${primary.origin}/plain.txt`));
    const json = await fetch(fetchInput(`${primary.origin}/data.json`));
    const latin1 = await fetch(fetchInput(`${primary.origin}/latin1.txt`));
    const untyped = await fetch(fetchInput(`${primary.origin}/no-type`));

    expect(gzipped).toMatchObject({ isError: false, output: expect.stringContaining('Shipped on Monday.') });
    expect(plain).toMatchObject({ isError: false, output: expect.stringMatching(/\n\nplain body text$/) });
    expect(json).toMatchObject({ isError: false, output: expect.stringContaining('{"status":"shipped"}') });
    expect(latin1).toMatchObject({ isError: false, output: expect.stringMatching(/café$/) });
    expect(untyped).toMatchObject({ isError: false, output: expect.stringContaining('untyped but text') });
  });

  it('refuses a host the limited networking does not allow, without sending a request', async () => {
    const result = await fetcher()(fetchInput(`${other.origin}/plain.txt`));

    expect(result).toEqual({
      isError: true,
      output: `web_fetch refused ${other.origin}/plain.txt: ${other.hostAndPort} is not among the hosts the session's environment allows.`,
    });
    expect(other.requests).toEqual([]);
  });

  it('refuses every URL under the default networking (limited, no hosts)', async () => {
    const result = await fetcher()(
      fetchInput(`${primary.origin}/plain.txt`, { networking: DEFAULT_SANDBOX_ENVIRONMENT.networking }),
    );

    expect(result.isError).toBe(true);
    expect(result.output).toContain("the session's environment allows no network access");
  });

  it('refuses a redirect to a disallowed host, and follows one to an allowed host', async () => {
    const before = primary.requests.length;
    const refused = await fetcher()(fetchInput(`${primary.origin}/redirect?to=${other.origin}/plain.txt`));
    const followed = await fetcher()(fetchInput(`${primary.origin}/redirect?to=/plain.txt`));

    expect(refused).toEqual({
      isError: true,
      output:
        `web_fetch refused the redirect from ${primary.origin}/redirect?to=${other.origin}/plain.txt to ` +
        `${other.origin}/plain.txt: ${other.hostAndPort} is not among the hosts the session's environment allows.`,
    });
    expect(other.requests).toEqual([]);
    expect(followed).toMatchObject({
      isError: false,
      output: expect.stringContaining(`URL: ${primary.origin}/plain.txt`),
    });
    expect(primary.requests.slice(before)).toEqual([
      `/redirect?to=${other.origin}/plain.txt`,
      '/redirect?to=/plain.txt',
      '/plain.txt',
    ]);
  });

  it('follows five redirects and stops at the sixth', async () => {
    const five = await fetcher()(fetchInput(`${primary.origin}/chain/4`));
    const loop = await fetcher()(fetchInput(`${primary.origin}/loop`));

    expect(five).toMatchObject({ isError: false, output: expect.stringContaining('plain body text') });
    expect(loop).toEqual({
      isError: true,
      output: `web_fetch stopped at ${primary.origin}/loop: more than 5 redirects.`,
    });
  });

  it('stops reading at maxBytes and says the response was truncated', async () => {
    const result = await fetcher({ maxBytes: 10_000 })(fetchInput(`${primary.origin}/big`));

    expect(result.isError).toBe(false);
    expect(result.output).toContain('FIRST-LINE');
    expect(result.output).toMatch(/\[web_fetch truncated the response: only its first 10000 bytes were read\.\]$/);
    expect(Buffer.byteLength(result.output)).toBeLessThan(10_500);
  });

  it('keeps the head of a text longer than maxOutputBytes and says how much is left out', async () => {
    const result = await fetcher({ maxBytes: 50_000, maxOutputBytes: 2_000 })(fetchInput(`${primary.origin}/big`));

    expect(result.output).toContain('FIRST-LINE');
    expect(result.output).toMatch(/\[web_fetch truncated the text: \d+ more bytes not shown\.\]/);
    expect(Buffer.byteLength(result.output)).toBeLessThan(2_500);
  });

  it('reports a server that does not answer, or stops sending, within timeoutMs', async () => {
    const startedAt = Date.now();
    const noHeaders = await fetcher({ timeoutMs: 300 })(fetchInput(`${primary.origin}/stall-headers`));
    const noBody = await fetcher({ timeoutMs: 300 })(fetchInput(`${primary.origin}/stall-body`));

    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(noHeaders).toEqual({
      isError: true,
      output: `web_fetch of ${primary.origin}/stall-headers timed out after 300 ms.`,
    });
    expect(noBody).toEqual({
      isError: true,
      output: `web_fetch of ${primary.origin}/stall-body timed out after 300 ms.`,
    });
  });

  it('respects the tool config: blocked_domains refuses, allowed_domains limits', async () => {
    const networking = limitedTo('localhost', '127.0.0.1');
    const fetch = fetcher();

    const blocked = await fetch(
      fetchInput(`http://localhost:${new URL(primary.origin).port}/plain.txt`, {
        networking,
        blockedDomains: ['localhost'],
      }),
    );
    const notAllowed = await fetch(
      fetchInput(`${primary.origin}/plain.txt`, { networking, allowedDomains: ['example.com'] }),
    );
    const allowed = await fetch(
      fetchInput(`${primary.origin}/plain.txt`, { networking, allowedDomains: ['127.0.0.1'] }),
    );

    expect(blocked).toMatchObject({
      isError: true,
      output: expect.stringContaining("blocked by the tool's blocked_domains"),
    });
    expect(notAllowed).toMatchObject({
      isError: true,
      output: expect.stringContaining("not in the tool's allowed_domains"),
    });
    expect(allowed).toMatchObject({ isError: false, output: expect.stringContaining('plain body text') });
  });

  it('refuses content that is not text, and reports HTTP errors with their body', async () => {
    const image = await fetcher()(fetchInput(`${primary.origin}/image.png`));
    const missing = await fetcher()(fetchInput(`${primary.origin}/missing`));

    expect(image).toEqual({
      isError: true,
      output:
        `web_fetch refused ${primary.origin}/image.png: its content type image/png is not text ` +
        '(web_fetch reads HTML, plain text, JSON, XML and similar text formats).',
    });
    expect(missing).toMatchObject({ isError: true, output: expect.stringContaining('Status: 404 Not Found') });
    expect(missing.output).toContain('No such page');
  });

  it('refuses other schemes and malformed URLs', async () => {
    const file = await fetcher()(fetchInput('file:///etc/passwd'));
    const malformed = await fetcher()(fetchInput('not a url'));

    expect(file).toMatchObject({ isError: true, output: expect.stringContaining('only http and https URLs') });
    expect(malformed).toEqual({ isError: true, output: 'web_fetch refused "not a url": it is not an absolute URL.' });
  });

  it('with unrestricted networking refuses loopback and private addresses unless the worker allows them', async () => {
    const unrestricted: SandboxNetworking = { type: 'unrestricted' };
    const port = new URL(primary.origin).port;

    const literal = await fetcher()(fetchInput(`${primary.origin}/plain.txt`, { networking: unrestricted }));
    const byName = await fetcher()(fetchInput(`http://localhost:${port}/plain.txt`, { networking: unrestricted }));
    const allowed = await fetcher({ blockPrivateAddresses: false })(
      fetchInput(`${primary.origin}/plain.txt`, { networking: unrestricted }),
    );

    expect(literal).toMatchObject({
      isError: true,
      output: expect.stringContaining('127.0.0.1, which is not a public'),
    });
    expect(byName).toMatchObject({ isError: true, output: expect.stringContaining('localhost is or resolves to') });
    expect(allowed).toMatchObject({ isError: false, output: expect.stringContaining('plain body text') });
  });

  it('with limited networking refuses an allowed host name that resolves to this host, but not an allowed IP literal', async () => {
    const port = new URL(primary.origin).port;
    const byName = await fetcher()(
      fetchInput(`http://localhost:${port}/plain.txt`, { networking: limitedTo('localhost') }),
    );
    const byLiteral = await fetcher()(
      fetchInput(`http://127.0.0.1:${port}/plain.txt`, { networking: limitedTo('127.0.0.1') }),
    );
    expect(byName).toMatchObject({ isError: true, output: expect.stringContaining('this host or link-local') });
    expect(byLiteral).toMatchObject({ isError: false, output: expect.stringContaining('plain body text') });
  });

  it('rejects with the cancellation when the Activity is cancelled mid-request, and heartbeats while it waits', async () => {
    const controller = new AbortController();
    const heartbeats: number[] = [];
    const startedAt = Date.now();

    const fetching = webFetch(fetchInput(`${primary.origin}/stall-headers`), resolveWebFetchActivityOptions(), {
      signal: controller.signal,
      heartbeat: () => heartbeats.push(Date.now()),
    });
    // Heartbeats go every second from the first second on (none at the start).
    setTimeout(() => controller.abort(new CancelledFailure('interrupted by the user')), 2_300);

    await expect(fetching).rejects.toBeInstanceOf(CancelledFailure);
    expect(Date.now() - startedAt).toBeLessThan(4_000);
    expect(heartbeats.length).toBeGreaterThanOrEqual(2);
  });
});

describe('web_fetch policy helpers', () => {
  it('domainMatches takes the domain and its subdomains, case-insensitively, ignoring scheme, path and *.', () => {
    expect(domainMatches('docs.example.com', 'example.com')).toBe(true);
    expect(domainMatches('EXAMPLE.com', 'https://Example.COM/docs')).toBe(true);
    expect(domainMatches('a.example.com', '*.example.com')).toBe(true);
    expect(domainMatches('notexample.com', 'example.com')).toBe(false);
    expect(domainMatches('example.com.evil.net', 'example.com')).toBe(false);
    expect(domainMatches('example.com', '')).toBe(false);
  });

  it('webFetchRefusal applies networking first, then blocked_domains, then allowed_domains', () => {
    const networking = limitedTo('*.example.com', 'api.other.org:8443');

    expect(webFetchRefusal(new URL('https://docs.example.com/a'), { networking })).toBeNull();
    expect(webFetchRefusal(new URL('https://api.other.org:8443/'), { networking })).toBeNull();
    expect(webFetchRefusal(new URL('https://api.other.org/'), { networking })).toContain('api.other.org:443 is not');
    expect(
      webFetchRefusal(new URL('https://docs.example.com/'), { networking, blockedDomains: ['docs.example.com'] }),
    ).toContain('blocked_domains');
    expect(
      webFetchRefusal(new URL('https://docs.example.com/'), { networking, allowedDomains: ['www.example.com'] }),
    ).toContain('allowed_domains');
    expect(webFetchRefusal(new URL('ftp://docs.example.com/'), { networking: { type: 'unrestricted' } })).toContain(
      'only http and https',
    );
  });

  it('isNonPublicAddress covers loopback, private, link-local, mapped IPv4 and leaves public addresses', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '0.0.0.0']) {
      expect(isNonPublicAddress(address)).toBe(true);
    }
    for (const address of ['::1', '[::1]', 'fe80::1', 'fd00::1', '::ffff:7f00:1', '::']) {
      expect(isNonPublicAddress(address)).toBe(true);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) {
      expect(isNonPublicAddress(address)).toBe(false);
    }
  });
});
