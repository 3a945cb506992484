import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SandboxCa } from '../activities/sandbox/network/sandbox-ca';
import { SANDBOX_NETWORK_LABELS } from '../activities/sandbox/network/sandbox-network-names';
import { sandboxContainerName } from '../common/sandbox';
import { filesUnder, readableText, WORKSPACE_DISKS_FOLDER } from './support/readable-text';
import { allSessionEvents, bashTurn, recordingSdkClient } from './support/sdk';
import { execInSandbox, startTestStack } from './support/test-stack';
import type { TestStack } from './support/test-stack';

/** The secrets under test: high entropy, so finding one anywhere can only mean it leaked. */
const SERVICE_SECRET = `svc-secret-${randomBytes(20).toString('hex')}`;
const OTHER_SECRET = `other-secret-${randomBytes(20).toString('hex')}`;
const SECRETS = [SERVICE_SECRET, OTHER_SECRET];

/** A request one of the host's HTTP servers received. */
interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

let harness: TestStack;
let client: Anthropic;
const responses: string[] = [];
/** Everything this process wrote to stdout and stderr while the tests ran (Keel's and Temporal's worker logs). */
const logs: string[] = [];
const restoreWrites: Array<() => void> = [];
/**
 * HTTP servers on the host's loopback (the worker's egress proxy reaches them; sandboxes only through it): plain http
 * on 127.0.0.1 and 127.0.0.2, then https on each, with certificates of a test CA the worker trusts upstream.
 */
const servers: Array<{ server: http.Server; received: Received[] }> = [];
/** The test CA's folder (its `sandbox-ca/ca.pem` is the stack's `KEEL_SANDBOX_CA_BUNDLE`). */
const testCaFolder = mkdtempSync(path.join(tmpdir(), 'keel-test-ca-'));

function listen(host: string, ca?: SandboxCa): Promise<{ server: http.Server; received: Received[] }> {
  const received: Received[] = [];
  const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    // The answer names nothing it received, so no secret can flow back into the sandbox or the session's log.
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.end('received');
    });
  };
  const server = ca === undefined ? http.createServer(handler) : https.createServer(ca.leafFor(host), handler);
  return new Promise((resolve) => server.listen(0, host, () => resolve({ server, received })));
}

const portOf = (server: http.Server): number => (server.address() as net.AddressInfo).port;

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
      logs.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
    restoreWrites.push(() => {
      stream.write = write;
    });
  }
  const testCa = new SandboxCa(testCaFolder, undefined);
  harness = await startTestStack({
    environment: { KEEL_SANDBOX_CA_BUNDLE: path.join(testCaFolder, 'sandbox-ca', 'ca.pem') },
  });
  client = recordingSdkClient(harness.stack.apiUrl, responses);
  servers.push(
    await listen('127.0.0.1'),
    await listen('127.0.0.2'),
    await listen('127.0.0.1', testCa),
    await listen('127.0.0.2', testCa),
  );
});

afterAll(async () => {
  for (const restore of restoreWrites) restore();
  for (const { server } of servers) server.close();
  await harness?.stop();
  rmSync(testCaFolder, { recursive: true, force: true });
});

/** A Python program that sends the variables' values in headers and the body to each URL, and prints the status. */
function requests(urls: string[]): string {
  return [
    "python3 - <<'EOF'",
    'import os, urllib.request',
    'service, other = os.environ["SERVICE_TOKEN"], os.environ["OTHER_TOKEN"]',
    `for url in ${JSON.stringify(urls)}:`,
    '    request = urllib.request.Request(url, data=("key=" + service + "&other=" + other).encode(),',
    '        headers={"Authorization": "Bearer " + service, "X-Other": other, "Content-Type": "text/plain"})',
    '    with urllib.request.urlopen(request, timeout=10) as response:',
    '        print(url, response.status, response.read().decode())',
    'EOF',
  ].join('\n');
}

describe('environment_variable credentials in a session', () => {
  it('the sandbox sees placeholders; the egress proxy substitutes secrets only for allowed hosts and locations', async () => {
    type Server = (typeof servers)[0];
    const [first, second, firstTls, secondTls] = servers as [Server, Server, Server, Server];
    const environment = await client.beta.environments.create({
      name: 'secrets env',
      config: { type: 'cloud', networking: { type: 'limited', allowed_hosts: ['127.0.0.1', '127.0.0.2'] } },
    });
    const agent = await client.beta.agents.create({
      name: 'secrets agent',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const vault = await client.beta.vaults.create({ display_name: 'service secrets' });
    const service = await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: 'environment_variable',
        secret_name: 'SERVICE_TOKEN',
        secret_value: SERVICE_SECRET,
        networking: { type: 'limited', allowed_hosts: ['127.0.0.1'] },
        injection_location: { header: true, body: true },
      },
    });
    await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: 'environment_variable',
        secret_name: 'OTHER_TOKEN',
        secret_value: OTHER_SECRET,
        networking: { type: 'unrestricted' },
      },
    });
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      vault_ids: [vault.id],
    });

    const echoed = JSON.parse(await bashTurn(client, harness.model, session.id, 'echo "$SERVICE_TOKEN $OTHER_TOKEN"'));
    const [servicePlaceholder, otherPlaceholder] = String(echoed.content?.[0]?.text ?? '')
      .trim()
      .split(' ') as [string, string];
    expect(servicePlaceholder).toMatch(/^keel_placeholder_[0-9a-f]{40}$/);
    expect(otherPlaceholder).toMatch(/^keel_placeholder_[0-9a-f]{40}$/);
    expect(otherPlaceholder).not.toBe(servicePlaceholder);

    // The container holds the placeholders and the credential ids, never a secret.
    const info = await harness.docker.getContainer(sandboxContainerName(session.id)).inspect();
    expect(info.Config.Env).toContain(`SERVICE_TOKEN=${servicePlaceholder}`);
    expect(JSON.parse(info.Config.Labels[SANDBOX_NETWORK_LABELS.credentials] ?? '[]')).toContain(service.id);
    for (const secret of SECRETS) expect(JSON.stringify(info)).not.toContain(secret);
    // It trusts Keel's sandbox CA through a mounted bundle (never the CA's key), named by the usual variables.
    const caMount = info.Mounts.find((mount) => mount.Destination === '/etc/keel/ca-bundle.pem');
    expect(caMount?.Source).toMatch(/sandbox-ca\/bundle\.pem$/);
    expect(caMount?.RW).toBe(false);
    expect(info.Mounts.some((mount) => mount.Source.endsWith('ca.key'))).toBe(false);
    expect(info.Config.Env).toContain('SSL_CERT_FILE=/etc/keel/ca-bundle.pem');

    const urls = [
      `http://127.0.0.1:${portOf(first.server)}/a`,
      `http://127.0.0.2:${portOf(second.server)}/b`,
      `https://127.0.0.1:${portOf(firstTls.server)}/c`,
      `https://127.0.0.2:${portOf(secondTls.server)}/d`,
    ];
    const sent = await bashTurn(client, harness.model, session.id, requests(urls));
    for (const url of urls) expect(sent).toContain(`${url} 200 received`);

    // 127.0.0.1 is SERVICE_TOKEN's allowed host: headers and body substituted. OTHER_TOKEN (unrestricted, headers
    // only) is substituted in the header on both hosts, and never in the body.
    expect(first.received).toHaveLength(1);
    expect(first.received[0]!.headers.authorization).toBe(`Bearer ${SERVICE_SECRET}`);
    expect(first.received[0]!.headers['x-other']).toBe(OTHER_SECRET);
    expect(first.received[0]!.body).toBe(`key=${SERVICE_SECRET}&other=${otherPlaceholder}`);
    expect(first.received[0]!.headers['content-length']).toBe(String(Buffer.byteLength(first.received[0]!.body)));
    // 127.0.0.2 is not: the placeholder passes unchanged.
    expect(second.received).toHaveLength(1);
    expect(second.received[0]!.headers.authorization).toBe(`Bearer ${servicePlaceholder}`);
    expect(second.received[0]!.headers['x-other']).toBe(OTHER_SECRET);
    expect(second.received[0]!.body).toBe(`key=${servicePlaceholder}&other=${otherPlaceholder}`);
    // The same over https: the proxy opens the tunnel (the sandbox trusts Keel's CA), and verifies the server upstream.
    expect(firstTls.received).toHaveLength(1);
    expect(firstTls.received[0]!.headers.authorization).toBe(`Bearer ${SERVICE_SECRET}`);
    expect(firstTls.received[0]!.headers['x-other']).toBe(OTHER_SECRET);
    expect(firstTls.received[0]!.body).toBe(`key=${SERVICE_SECRET}&other=${otherPlaceholder}`);
    expect(secondTls.received).toHaveLength(1);
    expect(secondTls.received[0]!.headers.authorization).toBe(`Bearer ${servicePlaceholder}`);
    expect(secondTls.received[0]!.headers['x-other']).toBe(OTHER_SECRET);
    expect(secondTls.received[0]!.body).toBe(`key=${servicePlaceholder}&other=${otherPlaceholder}`);

    // An archived credential is substituted no more: the proxy reads the store on every request.
    await client.beta.vaults.credentials.archive(service.id, { vault_id: vault.id });
    await bashTurn(client, harness.model, session.id, requests([urls[0]!]));
    expect(first.received[1]!.headers.authorization).toBe(`Bearer ${servicePlaceholder}`);

    // No secret in any event, Workflow history, API response or the model's requests.
    const events = JSON.stringify(await allSessionEvents(client, session.id));
    expect(events).toContain(servicePlaceholder);
    const history = readableText(await harness.stack.temporal.workflow.getHandle(session.id).fetchHistory()).join('\n');
    expect(history).toContain(servicePlaceholder);
    const modelRequests = JSON.stringify(harness.model.requests);
    // Every process of the sandbox: environments and command lines.
    const processes = await execInSandbox(harness.docker, session.id, [
      'sh',
      '-c',
      'env; for p in /proc/[0-9]*; do cat $p/environ $p/cmdline 2>/dev/null; echo; done',
    ]);
    expect(processes).toContain(servicePlaceholder);
    // Every file of the data folder: the Temporal dev server's database (histories at rest) and the sealed store.
    const files = filesUnder(harness.config.dataDir, [WORKSPACE_DISKS_FOLDER]);
    expect(files.some((file) => file.endsWith('.sqlite'))).toBe(true);
    for (const secret of SECRETS) {
      expect(events).not.toContain(secret);
      expect(history).not.toContain(secret);
      expect(modelRequests).not.toContain(secret);
      for (const body of responses) expect(body).not.toContain(secret);
      expect(logs.join('')).not.toContain(secret);
      expect(processes).not.toContain(secret);
      for (const file of files) expect(readFileSync(file).includes(secret), file).toBe(false);
    }
    await client.beta.sessions.delete(session.id);
  });

  it('an unrestricted sandbox with vault secrets goes through the egress proxy, which keeps it off this host', async () => {
    const environment = await client.beta.environments.create({
      name: 'open secrets env',
      config: { type: 'cloud', networking: { type: 'unrestricted' } },
    });
    const agent = await client.beta.agents.create({
      name: 'open secrets agent',
      model: 'scripted-model',
      tools: [{ type: 'agent_toolset_20260401' }],
    });
    const vault = await client.beta.vaults.create({ display_name: 'open secrets' });
    await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: 'environment_variable',
        secret_name: 'OPEN_TOKEN',
        secret_value: SERVICE_SECRET,
        networking: { type: 'unrestricted' },
      },
    });
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: environment.id,
      vault_ids: [vault.id],
    });
    const port = portOf(servers[0]!.server);
    const result = await bashTurn(
      client,
      harness.model,
      session.id,
      [
        "python3 - <<'EOF'",
        'import os, urllib.request, urllib.error',
        `request = urllib.request.Request("http://127.0.0.1:${port}/", headers={"X-Token": os.environ["OPEN_TOKEN"]})`,
        'try:',
        '    urllib.request.urlopen(request, timeout=10)',
        'except urllib.error.HTTPError as error:',
        '    print(error.code, error.read().decode().strip())',
        'EOF',
      ].join('\n'),
    );
    const info = await harness.docker.getContainer(sandboxContainerName(session.id)).inspect();
    expect(info.HostConfig.NetworkMode).toMatch(/-limited$/);
    expect(info.Config.Env.some((variable) => /^HTTP_PROXY=http:\/\//.test(variable))).toBe(true);
    // The proxy refuses this host for an unrestricted sandbox, so nothing reached the loopback server.
    expect(result).toContain(`403 Keel egress proxy: 127.0.0.1:${port} is this host, which no sandbox may reach`);
    expect(servers[0]!.received.every((request) => request.headers['x-token'] === undefined)).toBe(true);
    await client.beta.sessions.delete(session.id);
  });
});
