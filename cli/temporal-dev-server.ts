import { execFile, spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';

/** Options of the embedded Temporal dev server; the ports are chosen by the caller so stacks can run side by side. */
export interface TemporalDevServerOptions {
  /** Port of the gRPC frontend (clients and workers connect here). */
  port: number;
  /** Port of the Temporal Web UI. */
  uiPort: number;
  /** SQLite file that keeps the server's state across restarts; its folder is created when missing. */
  dbFilename: string;
  /** Namespace to create at launch, besides `default` which always exists. */
  namespace?: string;
  /** Receives each line the server prints until `stop()` is called (shutdown noise is not forwarded). */
  log?: (line: string) => void;
}

/** A running dev server, ready for clients when `startTemporalDevServer` resolves. */
export interface TemporalDevServer {
  /** The gRPC address, `127.0.0.1:<port>`, for `Connection.connect` and `NativeConnection.connect`. */
  address: string;
  /** The Web UI's URL. */
  uiUrl: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and resolves once it exited; calling it twice is harmless. */
  stop(): Promise<void>;
}

/** Search attributes the session Workflow sets; the dev server registers them at launch. */
export const KEEL_SEARCH_ATTRIBUTES = {
  KeelStatus: 'Keyword',
  KeelAgent: 'Keyword',
  KeelAgentVersion: 'Int',
  KeelMemoryStores: 'KeywordList',
  KeelDeployment: 'Keyword',
} as const;

/**
 * Dynamic config of the embedded dev server for an agent workload (many sessions, each a chain of short Workflow and
 * Activity tasks), passed as `--dynamic-config-value`; the README lists them as the settings for an external cluster.
 * Temporal's defaults poll each history shard's task queues at most 20 times a second, and the dev server has one
 * shard: a session's steps then settle at about 100 ms (two Workflow tasks a step) once the limiter's burst is spent.
 * Keys are matched without regard to case, and a wrong one is ignored without a word: `npm run bench` measures them.
 */
export const AGENT_WORKLOAD_DYNAMIC_CONFIG = {
  // Transfer tasks dispatch every Workflow task (and Activity task not started eagerly) to matching.
  'history.transferProcessorMaxPollRPS': 1000,
  // Timer tasks fire timeouts, retry back-offs and the sandbox idle timer.
  'history.timerProcessorMaxPollRPS': 1000,
  // Visibility tasks carry status changes and listings (search attributes, memo) to `sessions.list`.
  'history.visibilityProcessorMaxPollRPS': 1000,
  // Per-host request limits of the frontend, history and matching services (defaults 2400, 2400, 3000, 1200).
  'frontend.rps': 10000,
  'frontend.namespaceRPS': 10000,
  'history.rps': 10000,
  'matching.rps': 10000,
  // List and count calls a second (the dev server's default is 100; Temporal's own, 10).
  'frontend.namespaceRPS.visibility': 1000,
  // Task queue partitions stay at Temporal's 4: fewer would strand the tasks a data folder's earlier runs wrote to
  // the others (partitions are removed by first writing to fewer, then reading from fewer once those drained).
} as const;

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
const POLL_INTERVAL_MS = 100;
const KEPT_OUTPUT_LINES = 40;
const NOT_FOUND_MESSAGE = 'temporal CLI not found: run npm run setup';

/**
 * Finds the `temporal` CLI: the `TEMPORAL_CLI_PATH` value if given, else `temporal` on the search path, else
 * the path `npm run setup` recorded in `.keel/tools/temporal-path`. Environment values are parameters because
 * only the config file reads `process.env`; callers pass `process.env.TEMPORAL_CLI_PATH` and `process.env.PATH`.
 */
export function resolveTemporalCliPath(projectRoot: string, envPath?: string, searchPath?: string): string {
  if (envPath !== undefined && envPath !== '') {
    if (!isExecutableFile(envPath)) {
      throw new Error(
        `TEMPORAL_CLI_PATH=${envPath} is not an executable file: fix it, or unset it and run npm run setup`,
      );
    }
    return resolve(envPath);
  }
  for (const folder of (searchPath ?? '').split(delimiter)) {
    if (folder === '' || !isAbsolute(folder)) continue;
    const candidate = join(folder, 'temporal');
    if (isExecutableFile(candidate)) return candidate;
  }
  const recordFile = join(projectRoot, '.keel', 'tools', 'temporal-path');
  if (existsSync(recordFile)) {
    const recorded = readFileSync(recordFile, 'utf8').trim();
    if (recorded !== '' && isExecutableFile(recorded)) return recorded;
  }
  throw new Error(NOT_FOUND_MESSAGE);
}

/**
 * Returns a TCP port that was free on 127.0.0.1 a moment ago, for tests and side-by-side stacks. The port is closed
 * again before its user binds it, so two processes could be handed the same one meanwhile: each port handed out is
 * claimed in a lock file that names this process, and a port another live process claimed is not handed out again.
 */
export async function findFreePort(): Promise<number> {
  for (;;) {
    const port = await freePortFromSystem();
    if (port > 0 && claimPort(port)) return port;
  }
}

/**
 * Ports are handed out below Linux's ephemeral range (32768–60999 by default), where the system picks the local port
 * of every outbound connection and of every bind to port 0: a port from inside it could be taken that way (a gRPC
 * connection to Temporal, a dev server's own listener) between its check and its user's bind.
 */
const PORT_RANGE = { low: 20_000, high: 32_767 };

/** A random port of `PORT_RANGE` that could be bound on 127.0.0.1 a moment ago, or 0 when it could not. */
function freePortFromSystem(): Promise<number> {
  const port = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low + 1));
  return new Promise((resolvePort) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolvePort(0));
    server.listen(port, HOST, () => server.close(() => resolvePort(port)));
  });
}

/** Claims `port` for this process in the shared lock folder; false when a live process claimed it first. */
function claimPort(port: number): boolean {
  const folder = join(tmpdir(), 'keel-port-claims');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const owner = Number(readFileSync(file, 'utf8'));
  if (owner === process.pid || isAlive(owner)) return false;
  // The claim of a process that has gone: take it over (a rename replaces it whole).
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, String(process.pid));
  renameSync(mine, file);
  return Number(readFileSync(file, 'utf8')) === process.pid;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Starts `temporal server start-dev` on loopback (the dev server has no authentication) and resolves once its
 * namespace answers, within 60 s. It rejects with the server's own output when the process exits early, and
 * refuses a gRPC port that already answers, so it never mistakes another server for its own.
 */
export async function startTemporalDevServer(
  options: TemporalDevServerOptions & { cliPath: string },
): Promise<TemporalDevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      // The CLI picks its HTTP API and metrics ports itself; another process may take one before it binds it.
      if (attempt >= START_ATTEMPTS || !lostOwnRandomPort(error, options)) throw error;
    }
  }
}

/** Attempts at starting the dev server when a port the CLI chose itself was taken meanwhile. */
const START_ATTEMPTS = 3;

/** Whether start-up failed binding a port other than the gRPC and UI ports this caller chose (one the CLI picked). */
export function lostOwnRandomPort(error: unknown, options: TemporalDevServerOptions): boolean {
  const message = error instanceof Error ? error.message : '';
  const ports = [...message.matchAll(/listen(?:ing)?[^\n]*?:(\d+): bind: address already in use/g)].map((match) =>
    Number(match[1]),
  );
  return ports.length > 0 && ports.every((port) => port !== options.port && port !== options.uiPort);
}

async function startOnce(options: TemporalDevServerOptions & { cliPath: string }): Promise<TemporalDevServer> {
  const namespace = options.namespace ?? 'default';
  const address = `${HOST}:${options.port}`;
  if (await portAnswers(options.port)) {
    throw new Error(`cannot start the Temporal dev server: port ${options.port} is already in use`);
  }
  mkdirSync(dirname(resolve(options.dbFilename)), { recursive: true });

  const args = ['server', 'start-dev', '--ip', HOST, '--db-filename', options.dbFilename, '--namespace', namespace];
  args.push('--port', String(options.port), '--ui-port', String(options.uiPort), '--log-level', 'warn');
  // WAL with synchronous=NORMAL: every commit survives a crash of Keel or of the server; only an OS crash or power
  // loss can lose the last commits. It takes an fsync off each Workflow step.
  args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  // Queries that arrive while a Workflow task runs wait in a buffer of 1 by default; the rest are refused.
  args.push('--dynamic-config-value', 'history.maxBufferedQueryCount=16');
  for (const [key, value] of Object.entries(AGENT_WORKLOAD_DYNAMIC_CONFIG)) {
    args.push('--dynamic-config-value', `${key}=${value}`);
  }
  for (const [name, type] of Object.entries(KEEL_SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);

  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const recentLines: string[] = [];
  let stopping = false;
  const onLine = (line: string): void => {
    recentLines.push(line);
    if (recentLines.length > KEPT_OUTPUT_LINES) recentLines.shift();
    // What the server prints while it shuts down ("context canceled", refused dials) is noise, not news.
    if (!stopping) options.log?.(line);
  };
  // The pipes are read for the server's whole life: a full pipe would block it.
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  let exitReason: string | undefined;
  const exited = waitForExit(child).then((reason) => {
    exitReason = reason;
  });
  const isRunning = (): boolean => exitReason === undefined;

  const stop = async (): Promise<void> => {
    if (!isRunning()) return;
    stopping = true;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  const ready = await Promise.race([
    exited.then(() => false),
    waitUntilReady(options.cliPath, address, namespace, isRunning),
  ]);
  if (!ready || !isRunning()) {
    const failure = isRunning() ? 'did not answer within 60 s' : `exited during start-up (${exitReason})`;
    await stop();
    const output = recentLines.length > 0 ? `:\n${recentLines.join('\n')}` : ' (it printed nothing)';
    throw new Error(`temporal server start-dev on ${address} ${failure}${output}`);
  }
  // A dev server that dies under a running stack leaves every caller with refused connections: say why, once.
  void exited.then(() => {
    if (stopping) return;
    const output = recentLines.length > 0 ? recentLines.join('\n') : '(nothing)';
    process.stderr.write(
      `keel: the Temporal dev server on ${address} exited (${exitReason}); it printed last:\n${output}\n`,
    );
  });
  return { address, uiUrl: `http://${HOST}:${options.uiPort}`, stop };
}

/** True for a regular file this process may execute. */
function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Resolves with why the process ended, once its output pipes are drained too ('close', not 'exit'). */
function waitForExit(child: ChildProcess): Promise<string> {
  return new Promise((resolveExit) => {
    child.once('error', (error) => resolveExit(`could not run it: ${error.message}`));
    child.once('close', (code, signal) => resolveExit(signal !== null ? `signal ${signal}` : `exit code ${code}`));
  });
}

/** True when something accepts TCP connections on the loopback port. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = connect({ host: HOST, port });
    socket.once('connect', () => {
      socket.destroy();
      resolveAnswer(true);
    });
    socket.once('error', () => resolveAnswer(false));
  });
}

/** Polls the gRPC port, then the namespace through the CLI, until both answer, the server exits or time runs out. */
async function waitUntilReady(
  cliPath: string,
  address: string,
  namespace: string,
  isRunning: () => boolean,
): Promise<boolean> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  while (Date.now() < deadline && isRunning()) {
    if ((await portAnswers(port)) && (await namespaceAnswers(cliPath, address, namespace))) return true;
    await new Promise((wake) => setTimeout(wake, POLL_INTERVAL_MS));
  }
  return false;
}

/** True when the server answers `operator namespace describe` for the namespace (it exists and is served). */
function namespaceAnswers(cliPath: string, address: string, namespace: string): Promise<boolean> {
  // The config flags keep a user's TEMPORAL_* variables and profiles (TLS, API keys) out of this local probe.
  const args = ['operator', 'namespace', 'describe', '--namespace', namespace, '--address', address];
  args.push('--disable-config-env', '--disable-config-file', '--command-timeout', '2s', '--output', 'none');
  return new Promise((resolveAnswer) => {
    execFile(cliPath, args, { timeout: 5_000 }, (error) => resolveAnswer(error === null));
  });
}
