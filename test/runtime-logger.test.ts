import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '@temporalio/worker';
import { DEPLOYMENT_TASK_QUEUE } from '../common/deployment';
import { SESSION_TASK_QUEUE } from '../common/task-queues';
import { runtimeOptions } from '../worker/runtime-options';

const NOTICE = 'No workflows registered, not polling for workflow tasks';

/** What `log` writes to `stream` through the runtime logger of `format`. */
function written(format: 'text' | 'json', stream: NodeJS.WriteStream, log: (logger: Logger) => void): string {
  const chunks: string[] = [];
  const spy = vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    const { logger } = runtimeOptions({ format, level: undefined }, 'WARN');
    if (logger === undefined) throw new Error('runtimeOptions gave no logger');
    log(logger);
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

describe('the runtime logger', () => {
  afterEach(() => vi.restoreAllMocks());

  it('drops the "No workflows registered" warning of the Activity-only deployment worker, text and JSON', () => {
    const meta = { sdkComponent: 'worker', taskQueue: DEPLOYMENT_TASK_QUEUE };
    expect(written('text', process.stderr, (logger) => void logger.warn(NOTICE, meta))).toBe('');
    expect(written('json', process.stdout, (logger) => void logger.warn(NOTICE, meta))).toBe('');
  });

  it('keeps that warning for any other task queue, and every other warning', () => {
    const session = written(
      'text',
      process.stderr,
      (logger) => void logger.warn(NOTICE, { sdkComponent: 'worker', taskQueue: SESSION_TASK_QUEUE }),
    );
    expect(session).toContain(NOTICE);
    const other = written(
      'json',
      process.stdout,
      (logger) => void logger.warn('Activity heartbeat timed out', { taskQueue: DEPLOYMENT_TASK_QUEUE }),
    );
    expect(JSON.parse(other)).toMatchObject({ level: 'warn', msg: 'Activity heartbeat timed out' });
  });
});
