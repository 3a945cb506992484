import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { DockerStreamDemuxer } from '../activities/sandbox/docker-stream-demuxer';
import { readConfig } from '../common/config';
import { startBenchStack } from './bench-stack';
import { gapsBetween, ms, percentile } from './percentiles';
import { childrenNamed } from './process-cpu';
import { measureFloorSteps, startTemporalCpuMeter } from './temporal-floor';

/** A tool step's duration in ms through Keel and through a do-it-yourself loop doing the same work. */
export interface HarnessOverheadSamples {
  keel: number[];
  diy: number[];
  /** Temporal alone: the same steps with Activities that do nothing, on the same dev server. */
  floor: number[];
  /** The dev server's CPU time per step, in ms: over Keel's turn, and over Temporal alone's Workflow. */
  temporalCpuMsPerStep: { keel: number; floor: number };
}

const COMMAND = 'echo step';
const BASH_TOOL = {
  name: 'bash',
  description: 'Runs a command in a persistent bash shell.',
  input_schema: { type: 'object' as const, properties: { command: { type: 'string' } }, required: ['command'] },
};

/**
 * What Keel adds to a tool step over the least a harness must do. Keel: one session of `steps` bash steps; a step is
 * the gap between consecutive `agent.tool_result` events (the Workflow's clock), so it holds one model call and one
 * command. The do-it-yourself loop: the same scripted model called with the official SDK and the growing
 * conversation, and the same command written to one persistent `bash` in a container of the same sandbox image,
 * its output read back up to a sentinel line; a step is one model call plus one command.
 */
export async function measureHarnessOverhead(steps: number): Promise<HarnessOverheadSamples> {
  const bench = await startBenchStack({});
  try {
    const config = readConfig(bench.environment);
    const temporalPid = childrenNamed(process.pid, 'temporal')[0];
    const session = await bench.client.createSession({ title: 'harness overhead' });
    const stopCpu = startTemporalCpuMeter(temporalPid);
    const message = await bench.client.sendMessage(session.id, `steps:${steps}`);
    await bench.client.waitForIdle(session.id, message.id);
    // The turn's provisioning and closing model call are shared out over its steps: a slight overcount.
    const keelTemporalCpuMsPerStep = stopCpu(steps);
    const results: number[] = [];
    let page: string | undefined;
    do {
      const listed = await bench.client.listEvents(session.id, { limit: 500, ...(page ? { page } : {}) });
      for (const event of listed.data) {
        if (event.type === 'agent.tool_result') results.push(Date.parse(event.processed_at));
      }
      page = listed.next_page ?? undefined;
    } while (page !== undefined);
    const keel = gapsBetween(results);
    await bench.client.endSession(session.id);
    const floor = await measureFloorSteps(
      {
        address: bench.stack.temporalAddress,
        namespace: config.temporal.namespace,
        ...(temporalPid === undefined ? {} : { temporalPid }),
      },
      steps,
    );

    const image = config.sandbox.image;
    if (image === undefined) throw new Error('no sandbox image: run npm run setup');
    const diy = await doItYourself(new Anthropic({ baseURL: bench.model.baseUrl, apiKey: 'bench' }), image, steps);
    return {
      keel,
      diy,
      floor: floor.stepMs,
      temporalCpuMsPerStep: { keel: keelTemporalCpuMsPerStep, floor: floor.temporalCpuMsPerStep },
    };
  } finally {
    await bench.stop();
  }
}

async function doItYourself(model: Anthropic, image: string, steps: number): Promise<number[]> {
  const docker = new Docker();
  const container = await docker.createContainer({
    Image: image,
    Cmd: ['bash'],
    User: '1000:1000',
    OpenStdin: true,
    StdinOnce: false,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: { NetworkMode: 'none', AutoRemove: false },
  });
  try {
    const stream = await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
    const stdout = new PassThrough();
    const demuxer = new DockerStreamDemuxer();
    stream.on('data', (chunk: Buffer) => {
      for (const frame of demuxer.push(chunk)) if (frame.stream === 'stdout') stdout.write(frame.data);
    });
    await container.start();
    let buffered = '';
    let waiting: { sentinel: string; resolve: (output: string) => void } | null = null;
    stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const end = waiting === null ? -1 : buffered.indexOf(`${waiting.sentinel}\n`);
      if (waiting === null || end < 0) return;
      const output = buffered.slice(0, end);
      buffered = buffered.slice(end + waiting.sentinel.length + 1);
      const { resolve } = waiting;
      waiting = null;
      resolve(output);
    });
    const run = (command: string, index: number): Promise<string> =>
      new Promise((resolve) => {
        const sentinel = `__diy_done_${index}__`;
        waiting = { sentinel, resolve };
        stream.write(`${command}\necho ${sentinel}\n`);
      });

    const messages: MessageParam[] = [{ role: 'user', content: `steps:${steps}` }];
    const durations: number[] = [];
    for (let index = 0; index < steps; index++) {
      const started = performance.now();
      const reply = await model.messages.create({ model: 'bench', max_tokens: 1024, messages, tools: [BASH_TOOL] });
      const call = reply.content.find((block) => block.type === 'tool_use');
      if (call === undefined) throw new Error(`the model stopped after ${index} steps`);
      const output = await run((call.input as { command?: string }).command ?? COMMAND, index);
      messages.push({ role: 'assistant', content: reply.content });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: output }] });
      durations.push(performance.now() - started);
    }
    stream.end();
    return durations.slice(1);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/**
 * The benchmark's rows: Keel's step, the do-it-yourself step, and the difference (target p50 ≤ 25 ms); then Temporal
 * alone, and what is left of Keel's step once the do-it-yourself work and Temporal's own are taken out.
 */
export async function harnessOverheadRows(steps = 40): Promise<string[][]> {
  console.log(`harness overhead: ${steps} steps through Keel and through a do-it-yourself loop…`);
  const samples = await measureHarnessOverhead(steps);
  const added = percentile(samples.keel, 50) - percentile(samples.diy, 50);
  const own = added - percentile(samples.floor, 50);
  return [
    [
      'tool step through Keel (tool result to tool result)',
      ms(percentile(samples.keel, 50)),
      ms(percentile(samples.keel, 95)),
      `n=${samples.keel.length}`,
    ],
    [
      'tool step, do-it-yourself loop (model call + persistent shell)',
      ms(percentile(samples.diy, 50)),
      ms(percentile(samples.diy, 95)),
      `n=${samples.diy.length}`,
    ],
    [
      '  harness overhead (Keel minus do-it-yourself)',
      ms(added),
      '',
      `target p50 ≤ 25 ms: ${added <= 25 ? 'met' : 'MISSED'}`,
    ],
    [
      'tool step, Temporal alone (two Activities that do nothing, same dev server)',
      ms(percentile(samples.floor, 50)),
      ms(percentile(samples.floor, 95)),
      `n=${samples.floor.length}; a step's Workflow tasks and Activities with nothing to do; the dev server's CPU ${ms(samples.temporalCpuMsPerStep.floor)} a step, ${ms(samples.temporalCpuMsPerStep.keel)} for Keel's`,
    ],
    ["  Keel's own cost (overhead minus Temporal alone)", ms(own), '', 'the conversation store, the runner, the API'],
  ];
}
