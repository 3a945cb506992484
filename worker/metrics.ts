import type { Context as ActivityContext } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { listCostNano, listPriceFor } from '../common/list-price';
import type { ModelListPrice } from '../common/list-price';
import type { OwnSandboxCounts } from '../activities/sandbox/count-own-sandboxes';

/** Seconds buckets for Activities: from a fast file tool to a long model stream or command. */
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** How long a scrape waits for the Temporal runtime's own page, and for Docker's count of the sandboxes. */
const SCRAPE_PART_TIMEOUT_MS = 2_000;

/** What the worker's metrics are made with. */
export interface WorkerMetricsOptions {
  /** The registry to add the metrics to (a new one by default). */
  registry?: Registry;
  /** List prices that add to or override the known ones (`KEEL_MODEL_PRICES`), for the cost counter. */
  modelPrices?: Readonly<Record<string, ModelListPrice>>;
  /** Where this process's Temporal runtime serves its own Prometheus page (loopback), when it does. */
  temporalMetricsUrl?: string;
}

/** The worker's Prometheus metrics: every Activity's duration and outcome, the model's tokens and their list cost. */
export interface WorkerMetrics {
  registry: Registry;
  /** An Activity interceptor that records every Activity this worker runs. */
  interceptor: ActivityInterceptorsFactory;
  /**
   * The Temporal runtime's own page (the SDK's worker metrics, `temporal_*`: pollers, task slots, task and Activity
   * latencies), to serve after the registry's; empty when the runtime serves none, a comment when it did not answer.
   */
  temporalPage(): Promise<string>;
}

const SANDBOX_METRIC = 'keel_sandboxes';
const SANDBOX_ERRORS_METRIC = 'keel_sandboxes_count_errors_total';

/**
 * Adds `keel_sandboxes{state}` to `registry` (in place of one it had), counted by `count` when scraped. A count that
 * fails or takes longer than `SCRAPE_PART_TIMEOUT_MS` leaves the last values and adds to
 * `keel_sandboxes_count_errors_total`: the rest of the page is served all the same.
 */
export function registerSandboxCount(registry: Registry, count: () => Promise<OwnSandboxCounts>): void {
  registry.removeSingleMetric(SANDBOX_METRIC);
  registry.removeSingleMetric(SANDBOX_ERRORS_METRIC);
  let last: OwnSandboxCounts = { running: 0, warm: 0, stopped: 0 };
  let failures = 0;
  // One count per scrape, awaited by both metrics (a registry collects its metrics at the same time).
  let counting: Promise<void> | null = null;
  const refresh = (): Promise<void> =>
    (counting ??= (async () => {
      // After `counting` is set, so the `finally` below always clears it.
      await Promise.resolve();
      let timer: NodeJS.Timeout | undefined;
      try {
        last = await Promise.race([
          count(),
          new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => reject(new Error('timed out')), SCRAPE_PART_TIMEOUT_MS).unref();
          }),
        ]);
      } catch {
        failures += 1;
      } finally {
        // A count that answered in time leaves no timer behind it.
        clearTimeout(timer);
        counting = null;
      }
    })());
  new Counter({
    name: SANDBOX_ERRORS_METRIC,
    help: 'Scrapes whose count of the sandboxes failed or timed out (keel_sandboxes kept its last values)',
    registers: [registry],
    async collect() {
      await refresh();
      this.reset();
      if (failures > 0) this.inc(failures);
    },
  });
  new Gauge({
    name: SANDBOX_METRIC,
    help: "Sandbox containers this worker created, by state: running (a session's), warm (the pool's) and stopped",
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      await refresh();
      for (const state of ['running', 'warm', 'stopped'] as const) this.set({ state }, last[state]);
    },
  });
}

/**
 * The worker's metrics, measured by one Activity interceptor (`prom-client`, the Node Prometheus client): model calls,
 * tools (`execute` labelled with the sandbox tool, MCP and web tools by Activity), compaction and storage, each with
 * its duration and outcome, the tokens the model reports and their list cost (models with a list price only). Nothing
 * in the Workflow changes, so histories do not. The Temporal runtime's own metrics come from its page.
 */
export function createWorkerMetrics(options: WorkerMetricsOptions = {}): WorkerMetrics {
  const registry = options.registry ?? new Registry();
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
  const cost = new Counter({
    name: 'keel_model_cost_usd_total',
    help: "List cost of the model's tokens in US dollars, by model (models with a list price only)",
    labelNames: ['model'] as const,
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
    const price = listPriceFor(model, options.modelPrices);
    if (price === null) return;
    const count = (value: unknown): number => (typeof value === 'number' ? value : 0);
    const nano = listCostNano(
      {
        input_tokens: count(kinds.input),
        output_tokens: count(kinds.output),
        cache_read_input_tokens: count(kinds.cache_read),
        cache_creation_input_tokens: count(kinds.cache_creation),
      },
      price,
    );
    if (nano > 0n) cost.inc({ model }, Number(nano) / 1e9);
  };
  const temporalPage = async (): Promise<string> => {
    if (options.temporalMetricsUrl === undefined) return '';
    try {
      const response = await fetch(options.temporalMetricsUrl, {
        signal: AbortSignal.timeout(SCRAPE_PART_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return await response.text();
    } catch (error) {
      return `# the Temporal runtime's metrics did not answer: ${(error as Error).message}\n`;
    }
  };
  return { registry, interceptor, temporalPage };
}
