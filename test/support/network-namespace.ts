import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A network namespace standing in for hosts outside the machine, with an HTTP server on each of its addresses. */
export interface OutsideHosts {
  /** Two addresses in the namespace (TEST-NET-2, 198.51.100.0/24), each with its own HTTP server. */
  hostA: string;
  hostB: string;
  /** The port both servers listen on; each answers `hello from <its address>`. */
  port: number;
  close: () => Promise<void>;
}

const SERVER_PROGRAM = `
const http = require('node:http');
const port = Number(process.argv[1]);
let ready = 0;
for (const address of process.argv.slice(2)) {
  http
    .createServer((request, response) => response.end('hello from ' + address))
    .listen(port, address, () => ++ready === process.argv.length - 2 && console.log('ready'));
}
`;

/**
 * Creates a network namespace joined to the host by a veth pair in a random /29 of 198.51.100.0/24: the host side
 * gets the first address, the namespace the next two, each served by an HTTP server run inside the namespace. A
 * sandbox on a bridge network reaches them through the host's routing, as it would reach the Internet, and the
 * worker-side egress proxy reaches them directly.
 */
export async function startOutsideHosts(): Promise<OutsideHosts> {
  const id = randomBytes(3).toString('hex');
  const namespace = `keeltest-${id}`;
  const hostSide = `kth${id}`;
  const namespaceSide = `ktn${id}`;
  const base = 8 * randomInt(1, 31);
  const address = (offset: number): string => `198.51.100.${base + offset}`;
  const [hostA, hostB] = [address(2), address(3)];
  const port = 8080;
  const inNamespace = (...args: string[]): Promise<unknown> => run('ip', ['netns', 'exec', namespace, ...args]);
  let server: ChildProcess | undefined;
  const close = async (): Promise<void> => {
    server?.kill('SIGKILL');
    await run('ip', ['netns', 'del', namespace]).catch(() => undefined);
    await run('ip', ['link', 'del', hostSide]).catch(() => undefined);
  };
  try {
    await run('ip', ['netns', 'add', namespace]);
    await run('ip', ['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', namespaceSide]);
    await run('ip', ['link', 'set', namespaceSide, 'netns', namespace]);
    await run('ip', ['addr', 'add', `${address(1)}/29`, 'dev', hostSide]);
    await run('ip', ['link', 'set', hostSide, 'up']);
    await inNamespace('ip', 'link', 'set', 'lo', 'up');
    await inNamespace('ip', 'addr', 'add', `${hostA}/29`, 'dev', namespaceSide);
    await inNamespace('ip', 'addr', 'add', `${hostB}/29`, 'dev', namespaceSide);
    await inNamespace('ip', 'link', 'set', namespaceSide, 'up');
    await inNamespace('ip', 'route', 'add', 'default', 'via', address(1));
    const child = spawn(
      'ip',
      ['netns', 'exec', namespace, process.execPath, '-e', SERVER_PROGRAM, String(port), hostA, hostB],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    server = child;
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the namespace's HTTP servers exited (${String(code)})`)));
      child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { hostA, hostB, port, close };
}
