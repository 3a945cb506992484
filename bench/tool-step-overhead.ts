import Docker from 'dockerode';
import { sandboxContainerName } from '../common/sandbox';
import { startBenchStack } from './bench-stack';

/** Keel's latency of each tool step and the raw `docker exec` latency of the same command, in milliseconds. */
export interface ToolStepSamples {
  keel: number[];
  raw: number[];
}

/**
 * Runs one session with `steps` bash steps (`echo step`); a step's latency is the time from its `agent.tool_use` to
 * its `agent.tool_result` (Workflow clock). Then times the same command with a plain `docker exec` in the same
 * container, as uid 1000, through dockerode.
 */
export async function measureToolStepOverhead(steps: number): Promise<ToolStepSamples> {
  const bench = await startBenchStack({});
  try {
    const session = await bench.client.createSession({ title: 'tool step overhead' });
    const message = await bench.client.sendMessage(session.id, `steps:${steps}`);
    await bench.client.waitForIdle(session.id, message.id);
    const events = [];
    let page: string | undefined;
    do {
      const result = await bench.client.listEvents(session.id, { limit: 500, ...(page ? { page } : {}) });
      events.push(...result.data);
      page = result.next_page ?? undefined;
    } while (page !== undefined);
    const uses = new Map(
      events.filter((event) => event.type === 'agent.tool_use').map((event) => [event.id, event.processed_at]),
    );
    const keel = events
      .flatMap((event) =>
        event.type === 'agent.tool_result'
          ? [Date.parse(event.processed_at) - Date.parse(uses.get(event.tool_use_id) ?? '')]
          : [],
      )
      .slice(1);

    const docker = new Docker();
    const container = docker.getContainer(sandboxContainerName(session.id));
    const raw: number[] = [];
    for (let index = 0; index < steps; index++) {
      const started = performance.now();
      const exec = await container.exec({
        Cmd: ['bash', '-c', 'echo step'],
        User: '1000:1000',
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({});
      stream.resume();
      await new Promise((resolve) => stream.on('end', resolve));
      await exec.inspect();
      raw.push(performance.now() - started);
    }
    await bench.client.endSession(session.id);
    return { keel, raw };
  } finally {
    await bench.stop();
  }
}
