import { IllegalStateError } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { LogEntry, LogLevel, LogMetadata, RuntimeOptions } from '@temporalio/worker';
import type { LogConfig } from '../common/config';
import { DEPLOYMENT_TASK_QUEUE } from '../common/deployment';

/** What the SDK warns when a worker has no Workflows: the servers' deployment worker runs Activities only, by design. */
const NO_WORKFLOWS_NOTICE = 'No workflows registered, not polling for workflow tasks';

/**
 * The SDK's default logger, less the one warning that is expected in every Keel: the deployment worker (every server
 * has one, Activities only) would otherwise print "No workflows registered" at each start.
 */
class KeelLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message === NO_WORKFLOWS_NOTICE && meta?.['taskQueue'] === DEPLOYMENT_TASK_QUEUE) return;
    super.log(level, message, meta);
  }
}

/**
 * The Temporal runtime's options for `logs`, and with `metricsPort`, its own Prometheus page on that loopback port
 * (see `installRuntime`): counters end in `_total` and durations are in seconds (Temporal's documented names, with no
 * unit suffix). Its logger gets the SDK's own logs and the Workflows' and Activities' (`log` of `@temporalio/workflow`
 * and `@temporalio/activity`). With `json`: one JSON object a line on stdout, with the session id (`session_id`: the
 * Workflow ID) on every line of a Workflow or an Activity, and the native core's warnings forwarded to it too. With
 * `text`: the SDK's readable lines on stderr, at `KEEL_LOG_LEVEL` or else `textLevel` (each process's own default).
 */
export function runtimeOptions(logs: LogConfig, textLevel: LogLevel, metricsPort?: number): RuntimeOptions {
  const level = logs.level === undefined ? undefined : (logs.level.toUpperCase() as LogLevel);
  const metrics =
    metricsPort === undefined
      ? {}
      : {
          metrics: {
            prometheus: {
              bindAddress: `127.0.0.1:${metricsPort}`,
              countersTotalSuffix: true,
              useSecondsForDurations: true,
            },
          },
        };
  if (logs.format === 'text') {
    return { logger: new KeelLogger(level ?? textLevel), telemetryOptions: { ...metrics } };
  }
  return {
    logger: new KeelLogger(level ?? 'INFO', (entry) => process.stdout.write(`${jsonLogLine(entry)}\n`)),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } }, ...metrics },
  };
}

/**
 * Installs the process's Temporal runtime with `runtimeOptions`, and with `metricsPort`, its own metrics page there;
 * returns that page's address, which Keel's `/metrics` serves after its own. A port that cannot be bound leaves the
 * page out (told to `log`) rather than stopping the start. A runtime installed already throws `IllegalStateError`.
 */
export function installRuntime(
  logs: LogConfig,
  textLevel: LogLevel,
  metricsPort?: number,
  log?: (line: string) => void,
): string | undefined {
  if (metricsPort === undefined) {
    Runtime.install(runtimeOptions(logs, textLevel));
    return undefined;
  }
  try {
    Runtime.install(runtimeOptions(logs, textLevel, metricsPort));
    return `http://127.0.0.1:${metricsPort}/metrics`;
  } catch (error) {
    if (error instanceof IllegalStateError) throw error;
    log?.(`the Temporal runtime's metrics are left out (${(error as Error).message})`);
    Runtime.install(runtimeOptions(logs, textLevel));
    return undefined;
  }
}

/** A log entry as a line of JSON: `time`, `level`, `msg`, `session_id` when a Workflow is named, then its metadata. */
function jsonLogLine(entry: LogEntry): string {
  const meta: Record<string, unknown> = entry.meta ?? {};
  const sessionId = meta['workflowId'];
  const line = {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level.toLowerCase(),
    msg: entry.message,
    ...(typeof sessionId === 'string' ? { session_id: sessionId } : {}),
    ...meta,
  };
  return JSON.stringify(line, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
    return value;
  });
}
