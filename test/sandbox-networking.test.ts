import http from 'node:http';
import type net from 'node:net';
import { networkInterfaces } from 'node:os';

import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSandboxActivities } from '../activities/sandbox/create-sandbox-activities';
import { listHostFirewall } from '../activities/sandbox/network/host-firewall';
import { SANDBOX_NETWORK_LABELS } from '../activities/sandbox/network/sandbox-network-names';
import { SandboxNetworks } from '../activities/sandbox/network/sandbox-networks';
import type { SandboxEnvironment, SandboxNetworking } from '../common/sandbox';
import { DEFAULT_SANDBOX_ENVIRONMENT } from '../common/sandbox';
import { startOutsideHosts } from './support/network-namespace';
import type { OutsideHosts } from './support/network-namespace';
import { useSandboxFixture } from './support/sandbox-fixture';
import { testNetworks } from './support/test-networks';

// Networks, bridges and the firewall chain of this file only, so it can remove them all at the end.
const docker = new Docker();
const { names, networks, remove: removeNetworks } = testNetworks(docker, 'kt');
const sandbox = useSandboxFixture('net', { networks });
const { newSessionId, bash } = sandbox;

let outside: OutsideHosts;
/** Host servers the sandboxes must not reach: one on every address, one on loopback only (like Temporal's). */
let anyAddressServer: http.Server;
let loopbackServer: http.Server;

beforeAll(async () => {
  outside = await startOutsideHosts();
  anyAddressServer = await listen('0.0.0.0');
  loopbackServer = await listen('127.0.0.1');
});

afterAll(async () => {
  await removeNetworks();
  await outside.close();
  anyAddressServer.close();
  loopbackServer.close();
});

function listen(host: string): Promise<http.Server> {
  const server = http.createServer((_request, response) => response.end('host service'));
  return new Promise((resolve) => server.listen(0, host, () => resolve(server)));
}

const portOf = (server: http.Server): number => (server.address() as net.AddressInfo).port;

function environment(networking: SandboxNetworking): SandboxEnvironment {
  return { environmentId: 'env_test', networking, packages: { apt: [], pip: [], npm: [] } };
}

const PROBES = {
  'tcp.py': String.raw`
import socket, sys
s = socket.socket()
s.settimeout(2)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except Exception as error:
    print("failed: %s" % error)
`,
  'get.py': String.raw`
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
        print(response.status, response.read().decode())
except urllib.error.HTTPError as error:
    print(error.code, error.read().decode().strip())
except Exception as error:
    print("failed: %s" % error)
`,
  'connect.py': String.raw`
import os, socket, sys
host, port = os.environ["HTTPS_PROXY"][len("http://"):].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (sys.argv[1], sys.argv[1])).encode())
print(s.recv(65536).decode().split("\r\n")[0])
`,
  'tunnel.py': String.raw`
import os, socket, sys
host, port = os.environ["HTTPS_PROXY"][len("http://"):].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (sys.argv[1], sys.argv[1])).encode())
head, _, body = s.recv(65536).decode().partition("\r\n\r\n")
status = head.split(" ")[1]
if status != "200":
    print(status, body.strip())
    sys.exit()
s.sendall(b"GET / HTTP/1.1\r\nHost: tunnel\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(status, data.decode().partition("\r\n\r\n")[2])
`,
};

/** Provisions the session's sandbox with `env` and writes the probe programs into its workspace. */
async function provisionWith(sessionId: string, env: SandboxEnvironment): Promise<string> {
  const { containerId } = await sandbox.activities.provisionSandbox({ sessionId, environment: env });
  for (const [file, content] of Object.entries(PROBES)) {
    await sandbox.activities.execute({
      sessionId,
      name: 'write',
      input: { file_path: file, content },
      environment: env,
    });
  }
  return containerId;
}

async function probe(sessionId: string, env: SandboxEnvironment, command: string): Promise<string> {
  const result = await sandbox.activities.execute({ sessionId, name: 'bash', input: { command }, environment: env });
  return result.output.trim();
}

/** This host's own IPv4 addresses outside the private ranges (its LAN or public address), as a sandbox would try. */
function hostPublicAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)
    .map((entry) => entry!.address)
    .filter((address) => !/^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|198\.51\.100\.)/.test(address));
}

async function gatewayOf(network: string): Promise<string> {
  const info = await docker.getNetwork(network).inspect();
  return info.IPAM?.Config?.[0]?.Gateway ?? '';
}

describe('sandbox networking: none (the default)', () => {
  it('a sandbox without an environment has only loopback and cannot open any TCP connection', async () => {
    const sessionId = newSessionId();
    const containerId = await provisionWith(sessionId, DEFAULT_SANDBOX_ENVIRONMENT);
    const info = await docker.getContainer(containerId).inspect();
    expect(info.HostConfig.NetworkMode).toBe('none');
    expect(info.Config.Env.some((variable) => /^https?_proxy=/i.test(variable))).toBe(false);
    expect((await bash(sessionId, 'ls /sys/class/net')).output).toBe('lo');
    for (const address of [outside.hostA, ...hostPublicAddresses()]) {
      expect(await probe(sessionId, DEFAULT_SANDBOX_ENVIRONMENT, `python3 tcp.py ${address} ${outside.port}`)).toMatch(
        /^failed: .*(unreachable|timed out)/i,
      );
    }
  });
});

describe('sandbox networking: unrestricted', () => {
  const open = environment({ type: 'unrestricted' });

  it('an unrestricted sandbox reaches a server outside the machine, but nothing on the host, and has no Docker socket', async () => {
    const sessionId = newSessionId();
    const containerId = await provisionWith(sessionId, open);
    const info = await docker.getContainer(containerId).inspect();
    expect(info.HostConfig.NetworkMode).toBe(names.open);
    expect(info.Config.Labels[SANDBOX_NETWORK_LABELS.networking]).toBe(JSON.stringify({ type: 'unrestricted' }));

    expect(await probe(sessionId, open, `python3 get.py http://${outside.hostA}:${outside.port}/`)).toBe(
      `200 hello from ${outside.hostA}`,
    );

    // The host's own services: the one on every address answers the host itself, never the sandbox.
    const gateway = await gatewayOf(names.open);
    const hostAddresses = [gateway, ...hostPublicAddresses()];
    for (const address of hostAddresses) {
      expect(await probe(sessionId, open, `python3 tcp.py ${address} ${portOf(anyAddressServer)}`)).toMatch(/^failed/);
      expect(await probe(sessionId, open, `python3 tcp.py ${address} ${portOf(loopbackServer)}`)).toMatch(/^failed/);
    }
    const fromHost = await fetch(`http://${hostPublicAddresses()[0] ?? '127.0.0.1'}:${portOf(anyAddressServer)}/`);
    expect(await fromHost.text()).toBe('host service');
    expect(await probe(sessionId, open, `python3 tcp.py 127.0.0.1 ${portOf(loopbackServer)}`)).toMatch(/^failed/);

    expect(await probe(sessionId, open, 'ls -a /var/run/docker.sock /run/docker.sock 2>&1 | wc -l; id -u')).toBe(
      '2\n1000',
    );
    expect(await probe(sessionId, open, 'test -e /var/run/docker.sock || echo absent')).toBe('absent');
    expect(await listHostFirewall(names.firewallChain)).toContain(`-A ${names.firewallChain} -i ${names.open} -j DROP`);
  });
});

describe('sandbox networking: limited to allowed hosts', () => {
  const hostsOnly = (): SandboxEnvironment =>
    environment({
      type: 'limited',
      allowedHosts: [outside.hostA],
      allowPackageManagers: false,
      allowMcpServers: false,
    });

  it('a limited sandbox reaches an allowed host through the proxy (http and CONNECT), gets 403 for others, and cannot bypass it', async () => {
    const env = hostsOnly();
    const sessionId = newSessionId();
    const containerId = await provisionWith(sessionId, env);
    const info = await docker.getContainer(containerId).inspect();
    expect(info.HostConfig.NetworkMode).toBe(names.limited);
    // No upstream DNS: Docker's embedded resolver must not forward queries out of the internal network.
    expect(info.HostConfig.Dns).toEqual(['127.0.0.1']);
    const gateway = await gatewayOf(names.limited);
    const proxy = info.Config.Labels[SANDBOX_NETWORK_LABELS.proxy] ?? '';
    expect(proxy).toMatch(new RegExp(`^http://${gateway.replaceAll('.', '\\.')}:\\d+$`));
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) {
      expect(info.Config.Env).toContain(`${name}=${proxy}`);
    }
    expect(info.Config.Env).toContain('NO_PROXY=');

    const { hostA, hostB, port } = outside;
    expect(await probe(sessionId, env, `python3 get.py http://${hostA}:${port}/`)).toBe(`200 hello from ${hostA}`);
    expect(await probe(sessionId, env, `python3 tunnel.py ${hostA}:${port}`)).toBe(`200 hello from ${hostA}`);
    expect(await probe(sessionId, env, `python3 get.py http://${hostB}:${port}/`)).toBe(
      `403 Keel egress proxy: ${hostB}:${port} is not an allowed host of this sandbox's environment (networking.allowed_hosts)`,
    );
    expect(await probe(sessionId, env, `python3 tunnel.py ${hostB}:${port}`)).toMatch(/^403 Keel egress proxy: /);

    // Bypassing the proxy: straight to the allowed host, to the host's other ports, or by name.
    expect(await probe(sessionId, env, `python3 tcp.py ${hostA} ${port}`)).toMatch(/^failed/);
    for (const address of [gateway, ...hostPublicAddresses()]) {
      expect(await probe(sessionId, env, `python3 tcp.py ${address} ${portOf(anyAddressServer)}`)).toMatch(/^failed/);
    }
    expect(
      await probe(sessionId, env, 'python3 -c "import socket; socket.gethostbyname(\'pypi.org\')" 2>&1 | tail -1'),
    ).toMatch(/gaierror/);
  });

  it('an allowed host name that resolves to this host is refused by the proxy; an allowed IP literal is not', async () => {
    const byName = environment({
      type: 'limited',
      allowedHosts: ['localhost'],
      allowPackageManagers: false,
      allowMcpServers: false,
    });
    const sessionId = newSessionId();
    await provisionWith(sessionId, byName);
    const answer = await probe(sessionId, byName, `python3 get.py http://localhost:${portOf(loopbackServer)}/`);
    expect(answer).toMatch(/^502 /);
    expect(answer).toContain('this host or link-local');
    expect(await probe(sessionId, byName, `python3 tunnel.py localhost:${portOf(loopbackServer)}`)).toMatch(/^502/);

    const byAddress = environment({
      type: 'limited',
      allowedHosts: ['127.0.0.1'],
      allowPackageManagers: false,
      allowMcpServers: false,
    });
    const literalSession = newSessionId();
    await provisionWith(literalSession, byAddress);
    expect(await probe(literalSession, byAddress, `python3 get.py http://127.0.0.1:${portOf(loopbackServer)}/`)).toBe(
      '200 host service',
    );
  });

  it('allow_package_managers alone lets a limited sandbox tunnel to the package registries and nowhere else', async () => {
    const env = environment({ type: 'limited', allowedHosts: [], allowPackageManagers: true, allowMcpServers: false });
    const sessionId = newSessionId();
    await provisionWith(sessionId, env);
    expect(await probe(sessionId, env, 'python3 connect.py pypi.org:443')).toBe('HTTP/1.1 200 Connection Established');
    expect(await probe(sessionId, env, 'python3 connect.py registry.npmjs.org:443')).toBe(
      'HTTP/1.1 200 Connection Established',
    );
    expect(await probe(sessionId, env, `python3 connect.py ${outside.hostA}:${outside.port}`)).toBe(
      'HTTP/1.1 403 Forbidden',
    );
  });

  it('the egress proxy refuses a client that is not a Keel sandbox', async () => {
    const proxy = new URL(await networks.proxyAddress());
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(
        { host: proxy.hostname, port: Number(proxy.port), path: `http://${outside.hostA}:${outside.port}/` },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('does not come from a Keel sandbox');
  });

  it('two workers get two proxies; when the first stops, its sandbox is replaced with one behind the second', async () => {
    const first = new SandboxNetworks({ docker, firewall: 'iptables', names });
    const second = new SandboxNetworks({ docker, firewall: 'iptables', names });
    const workerOne = createSandboxActivities({ ...sandbox.options, networks: first });
    const workerTwo = createSandboxActivities({ ...sandbox.options, networks: second });
    try {
      const env = hostsOnly();
      const sessionId = newSessionId();
      const created = await workerOne.provisionSandbox({ sessionId, environment: env });
      expect(await workerTwo.provisionSandbox({ sessionId, environment: env })).toEqual({ ...created, created: false });
      const [addressOne, addressTwo] = [await first.proxyAddress(), await second.proxyAddress()];
      expect(addressOne).not.toBe(addressTwo);

      await first.close();
      const replaced = await workerTwo.provisionSandbox({ sessionId, environment: env });
      expect(replaced.containerId).not.toBe(created.containerId);
      const info = await docker.getContainer(replaced.containerId).inspect();
      expect(info.Config.Labels[SANDBOX_NETWORK_LABELS.proxy]).toBe(addressTwo);
      const get = `python3 -c "import urllib.request; print(urllib.request.urlopen('http://${outside.hostA}:${outside.port}/').read().decode())"`;
      expect(await workerTwo.execute({ sessionId, name: 'bash', input: { command: get }, environment: env })).toEqual({
        isError: false,
        output: `hello from ${outside.hostA}`,
      });
    } finally {
      await first.close();
      await second.close();
    }
  });
});
