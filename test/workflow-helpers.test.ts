import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../common/config';
import type { LoggedEvent } from '../common/events';
import type { MessageParam } from '../common/model';
import {
  appendAssistantContent,
  appendUserContent,
  TOOL_NOT_RUN_TEXT,
  toolResultBlock,
} from '../workflows/conversation';
import { EventLog } from '../workflows/event-log';
import { decideModelFailure } from '../workflows/model-failures';
import { describeToolCall } from '../workflows/tool-summary';

function activityFailure(cause: Error): ActivityFailure {
  return new ActivityFailure('activity failed', 'callModel', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker', cause);
}

describe('appendUserContent', () => {
  it('merges consecutive user content into one message so roles alternate', () => {
    const messages: MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: 'one' }] }];
    const next = appendUserContent(messages, [{ type: 'text', text: 'two' }]);
    expect(next).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'one' },
          { type: 'text', text: 'two' },
        ],
      },
    ]);
    expect(messages).toHaveLength(1);
  });

  it('answers unanswered tool calls with an error result before new text', () => {
    const messages = appendAssistantContent(
      [{ role: 'user', content: 'go' }],
      [{ type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'ls' }, caller: { type: 'direct' } }],
    );
    const next = appendUserContent(messages, [{ type: 'text', text: 'stop that' }]);
    expect(next.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: TOOL_NOT_RUN_TEXT, is_error: true },
        { type: 'text', text: 'stop that' },
      ],
    });
  });

  it('adds a tool result without inventing results for the other calls of the step', () => {
    const messages = appendAssistantContent(
      [{ role: 'user', content: 'go' }],
      [
        { type: 'tool_use', id: 'toolu_1', name: 'bash', input: {}, caller: { type: 'direct' } },
        { type: 'tool_use', id: 'toolu_2', name: 'bash', input: {}, caller: { type: 'direct' } },
      ],
    );
    const next = appendUserContent(messages, [toolResultBlock({ toolUseId: 'toolu_1', output: '', isError: false })]);
    expect(next.at(-1)).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '(no output)', is_error: false }],
    });
  });
});

describe('decideModelFailure', () => {
  it('retries a 429 after the retry-after the Activity reported', () => {
    const failure = ApplicationFailure.create({
      type: 'ModelRateLimited',
      message: 'slow down',
      details: [{ status: 429, retryAfterMs: 7000 }],
    });
    expect(decideModelFailure(activityFailure(failure), 1)).toEqual({
      error: { type: 'model_rate_limited_error', message: 'slow down' },
      retryable: true,
      retryDelayMs: 7000,
      promptTooLong: false,
    });
  });

  it('backs off exponentially without retry-after, capped at 30 s, and never retries a rejected request', () => {
    const overloaded = ApplicationFailure.create({
      type: 'ModelOverloaded',
      message: 'busy',
      details: [{ status: 529, retryAfterMs: null }],
    });
    expect(decideModelFailure(activityFailure(overloaded), 3).retryDelayMs).toBe(4000);
    expect(decideModelFailure(activityFailure(overloaded), 10).retryDelayMs).toBe(30_000);
    const rejected = ApplicationFailure.create({ type: 'ModelRequestRejected', message: 'bad', nonRetryable: true });
    expect(decideModelFailure(activityFailure(rejected), 1)).toMatchObject({
      retryable: false,
      error: { type: 'model_request_failed_error' },
    });
  });

  it('marks a compaction that could not make room as beyond any retry or compaction', () => {
    const noRoom = ApplicationFailure.create({
      type: 'CompactionLimitReached',
      message: 'too big',
      nonRetryable: true,
    });
    expect(decideModelFailure(activityFailure(noRoom), 1)).toEqual({
      error: { type: 'model_request_failed_error', message: 'too big' },
      retryable: false,
      retryDelayMs: 0,
      promptTooLong: false,
      cannotCompact: true,
    });
  });
});

describe('EventLog', () => {
  it('assigns ids, times and dense positions that continue the previous run, and pages after a position', () => {
    let counter = 0;
    const appended: LoggedEvent[] = [];
    const log = new EventLog(10, {
      newEventId: () => `sevt_${++counter}`,
      now: () => '2026-01-01T00:00:00.000Z',
      onAppend: (events) => appended.push(...events),
    });
    log.append({ type: 'session.status_running' });
    const reserved = log.reserveId();
    log.append({ type: 'agent.message', id: reserved, content: [{ type: 'text', text: 'hi' }] });
    expect(log.nextPosition).toBe(12);
    expect(appended.map((entry) => [entry.position, entry.event.id])).toEqual([
      [10, 'sevt_1'],
      [11, 'sevt_2'],
    ]);
    expect(log.after(10, 100).map((entry) => entry.position)).toEqual([11]);
    expect(log.after(-1, 1).map((entry) => entry.position)).toEqual([10]);
  });
});

describe('describeToolCall', () => {
  it('labels an Activity with the tool and its subject on one short line', () => {
    expect(describeToolCall('bash', { command: 'ls   -la\n/tmp' })).toBe('bash: ls -la /tmp');
    expect(describeToolCall('read', { file_path: 'src/app.ts' })).toBe('read: src/app.ts');
    expect(describeToolCall('bash', { command: 'x'.repeat(200) })).toHaveLength(80);
  });
});

describe('parseConfig', () => {
  it('applies the defaults of DESIGN.md', () => {
    const config = parseConfig({});
    expect(config.server).toMatchObject({ port: 7070, host: '127.0.0.1' });
    expect(config.temporal).toMatchObject({
      address: undefined,
      namespace: 'default',
      devServerPort: 7233,
      devServerUiPort: 8233,
    });
    expect(config.sandbox.provisioning).toBe('lazy');
  });

  it('falls back to ANTHROPIC_* for the model endpoint and treats empty values as unset', () => {
    const config = parseConfig({
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9000',
      ANTHROPIC_API_KEY: 'k',
      KEEL_MODEL_BASE_URL: '',
    });
    expect(config.model).toMatchObject({ baseUrl: 'http://127.0.0.1:9000', apiKey: 'k' });
  });

  it('names every bad variable and what it expects', () => {
    expect(() =>
      parseConfig({ KEEL_PORT: 'eighty', KEEL_MODEL_BASE_URL: 'not a url', KEEL_SANDBOX_PROVISIONING: 'soon' }),
    ).toThrow(/KEEL_PORT[\s\S]*KEEL_MODEL_BASE_URL: expected a URL[\s\S]*KEEL_SANDBOX_PROVISIONING/);
  });
});
