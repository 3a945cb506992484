import { PassThrough } from 'node:stream';
import { rmSync } from 'node:fs';
import Docker from 'dockerode';
import { KeelClient } from '../../client';
import type { StreamItem } from '../../client';
import { startStack } from '../../cli/stack';
import type { Stack } from '../../cli/stack';
import { readConfig } from '../../common/config';
import type { KeelConfig } from '../../common/config';
import type { SessionEvent } from '../../common/events';
import { SANDBOX_LABELS, sandboxContainerName } from '../../common/sandbox';
import { ScriptedModelServer } from '../scripted-model-server';
import type { ScriptedModelServerOptions } from '../scripted-model-server';
import { isolatedStackEnvironment } from './stack-environment';
import { removeThrowawaySandboxes } from './throwaway-sandboxes';
import { sharedWorkflowBundle } from './workflow-bundle';

/** A whole Keel for one test file: its own Temporal dev server, worker, HTTP API and scripted model. */
export interface TestStack {
  stack: Stack;
  model: ScriptedModelServer;
  client: KeelClient;
  docker: Docker;
  config: KeelConfig;
  /** The environment a worker process of this stack needs (for tests that run the worker as a child process). */
  workerEnvironment: Record<string, string>;
  stop(): Promise<void>;
}

export const TEST_API_KEY = 'keel-test-key';

/** Starts a test stack; `environment` overrides Keel's configuration variables. */
export async function startTestStack(
  options: { environment?: Record<string, string>; runWorker?: boolean; model?: ScriptedModelServerOptions } = {},
): Promise<TestStack> {
  const model = await ScriptedModelServer.start(options.model);
  const isolated = await isolatedStackEnvironment(model.baseUrl, 'keel-test-');
  const dataDir = isolated.dataDir;
  const environment: Record<string, string> = {
    ...isolated.environment,
    KEEL_MODEL: 'scripted-model',
    ...options.environment,
  };
  const config = readConfig(environment);
  const stack = await startStack({
    config,
    apiKey: TEST_API_KEY,
    runWorker: options.runWorker ?? true,
    workflowBundle: { code: (await sharedWorkflowBundle()).code },
  });
  const client = new KeelClient({ baseUrl: stack.apiUrl, apiKey: TEST_API_KEY });
  const docker = new Docker();
  return {
    stack,
    model,
    client,
    docker,
    config,
    workerEnvironment: { ...environment, TEMPORAL_ADDRESS: stack.temporalAddress },
    stop: async () => {
      await stack.stop();
      // Every container and volume the stack's cluster made (its sessions', however they were created, and its warm
      // pools'), so a failed test leaves none behind; before the data folder goes, since the sessions' workspace disk
      // images lie in it, attached to loop devices.
      await removeThrowawaySandboxes(config.temporal.namespace, stack.temporalAddress, docker);
      rmSync(dataDir, { recursive: true, force: true });
      await model.close();
    },
  };
}

/** Sends `text` and collects every event of the session until the idle that ends its turn. */
export async function sendAndWait(
  client: KeelClient,
  sessionId: string,
  text: string,
): Promise<{ message: SessionEvent; events: SessionEvent[]; idle: SessionEvent }> {
  const message = await client.sendMessage(sessionId, text);
  const events: SessionEvent[] = [];
  const idle = await client.waitForIdle(sessionId, message.id, {
    onItem: (item: StreamItem) => {
      if (item.kind === 'event') events.push(item.event);
    },
  });
  const start = events.findIndex((event) => event.id === message.id);
  return { message, events: events.slice(start), idle };
}

/** Every event of a session, read through the list endpoint page by page. */
export async function listAllEvents(client: KeelClient, sessionId: string, pageSize = 7): Promise<SessionEvent[]> {
  const events: SessionEvent[] = [];
  let page: string | undefined;
  do {
    const result = await client.listEvents(sessionId, { limit: pageSize, ...(page ? { page } : {}) });
    events.push(...result.data);
    page = result.next_page ?? undefined;
  } while (page !== undefined);
  return events;
}

/** The containers Keel created for a session (running or not), found through the Docker API by label. */
export function sessionContainers(docker: Docker, sessionId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${SANDBOX_LABELS.session}=${sessionId}`] } });
}

/** The types of `events`, in order. */
export function typesOf(events: SessionEvent[]): string[] {
  return events.map((event) => event.type);
}

/** Runs `command` in the session's container (as Docker's own exec, outside Keel) and returns its stdout and stderr. */
export function execInSandbox(docker: Docker, sessionId: string, command: string[]): Promise<string> {
  return execInContainer(docker, sandboxContainerName(sessionId), command);
}

/** Runs `command` in the container `idOrName` (as Docker's own exec) and returns its stdout and stderr. */
export async function execInContainer(docker: Docker, idOrName: string, command: string[]): Promise<string> {
  const container = docker.getContainer(idOrName);
  const exec = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  docker.modem.demuxStream(stream, output, output);
  await new Promise((resolve) => stream.on('end', resolve));
  return Buffer.concat(chunks).toString('utf8');
}
