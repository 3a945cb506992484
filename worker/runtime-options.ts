import { DefaultLogger } from '@temporalio/worker';
import type { LogEntry, LogLevel, RuntimeOptions } from '@temporalio/worker';
import type { LogConfig } from '../common/config';

/**
 * The Temporal runtime's options for `logs`. Its logger gets the SDK's own logs and the Workflows' and Activities'
 * (`log` of `@temporalio/workflow` and `@temporalio/activity`). With `json`: one JSON object a line on stdout, with
 * the session id (`session_id`: the Workflow ID) on every line of a Workflow or an Activity, and the native core's
 * warnings forwarded to it too. With `text`: the SDK's readable lines on stderr, at `KEEL_LOG_LEVEL` or else
 * `textLevel` (each process's own default).
 */
export function runtimeOptions(logs: LogConfig, textLevel: LogLevel): RuntimeOptions {
  const level = logs.level === undefined ? undefined : (logs.level.toUpperCase() as LogLevel);
  if (logs.format === 'text') return { logger: new DefaultLogger(level ?? textLevel) };
  return {
    logger: new DefaultLogger(level ?? 'INFO', (entry) => process.stdout.write(`${jsonLogLine(entry)}\n`)),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  };
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
