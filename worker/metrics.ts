import type { Context as ActivityContext } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Counter, Histogram, Registry } from 'prom-client';

/** Seconds buckets for Activities: from a fast file tool to a long model stream or command. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The worker's Prometheus metrics: every Activity's duration and outcome, and the model's tokens. */
export interface WorkerMetrics {
  registry: Registry;
  /** An Activity interceptor that records every Activity this worker runs. */
  interceptor: ActivityInterceptorsFactory;
}

/**
 * The worker's metrics, measured by one Activity interceptor (`prom-client`, the Node Prometheus client): model calls,
 * tools (`execute` labelled with the sandbox tool, MCP and web tools by Activity), compaction and storage, each with
 * its duration and outcome, and the tokens the model reports. Nothing in the Workflow changes, so histories do not.
 */
export function createWorkerMetrics(registry: Registry = new Registry()): WorkerMetrics {
  const duration = new Histogram({
    name: 'keel_activity_duration_seconds',
    help: 'Duration of the Activities this worker ran (model calls, tools, compaction, storage), by outcome',
    labelNames: ['activity', 'tool', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'keel_model_tokens_total',
    help: 'Tokens the model reported, by model and kind (input, output, cache_read, cache_creation)',
    labelNames: ['model', 'kind'] as const,
    registers: [registry],
  });
  const interceptor: ActivityInterceptorsFactory = (context: ActivityContext) => ({
    inbound: {
      execute: async (input, next) => {
        const activity = context.info.activityType;
        const first = (input.args[0] ?? {}) as { name?: unknown; model?: unknown };
        const tool = activity === 'execute' && typeof first.name === 'string' ? first.name : '';
        const stop = duration.startTimer({ activity, tool });
        try {
          const result = await next(input);
          stop({ outcome: 'completed' });
          if (activity === 'callModel' && typeof first.model === 'string') countTokens(first.model, result);
          return result;
        } catch (error) {
          stop({
            outcome: error instanceof CancelledFailure || context.cancellationSignal.aborted ? 'cancelled' : 'failed',
          });
          throw error;
        }
      },
    },
  });
  const countTokens = (model: string, result: unknown): void => {
    const usage = (result as { usage?: Record<string, unknown> } | undefined)?.usage ?? {};
    const kinds = {
      input: usage['input_tokens'],
      output: usage['output_tokens'],
      cache_read: usage['cache_read_input_tokens'],
      cache_creation: usage['cache_creation_input_tokens'],
    };
    for (const [kind, count] of Object.entries(kinds)) {
      if (typeof count === 'number' && count > 0) tokens.inc({ model, kind }, count);
    }
  };
  return { registry, interceptor };
}
