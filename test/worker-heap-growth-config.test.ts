import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../common/config';

describe('KEEL_WORKER_HEAP_GROWING_PERCENT', () => {
  it('defaults to 20 and takes 0 (V8’s own factor) or a percent up to 300', () => {
    expect(parseConfig({}).workerHeapGrowingPercent).toBe(20);
    expect(parseConfig({ KEEL_WORKER_HEAP_GROWING_PERCENT: '0' }).workerHeapGrowingPercent).toBe(0);
    expect(parseConfig({ KEEL_WORKER_HEAP_GROWING_PERCENT: '150' }).workerHeapGrowingPercent).toBe(150);
  });

  it('refuses a value that is not a whole percent in range, naming the variable', () => {
    for (const value of ['-5', '12.5', 'lots', '301']) {
      expect(() => parseConfig({ KEEL_WORKER_HEAP_GROWING_PERCENT: value })).toThrow(ConfigError);
      expect(() => parseConfig({ KEEL_WORKER_HEAP_GROWING_PERCENT: value })).toThrow(
        /KEEL_WORKER_HEAP_GROWING_PERCENT/,
      );
    }
  });
});
