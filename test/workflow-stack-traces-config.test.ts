import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../common/config';

describe('KEEL_WORKFLOW_STACK_TRACES', () => {
  it('is off by default and takes on or off', () => {
    expect(parseConfig({}).workflowStackTraces).toBe(false);
    expect(parseConfig({ KEEL_WORKFLOW_STACK_TRACES: 'on' }).workflowStackTraces).toBe(true);
    expect(parseConfig({ KEEL_WORKFLOW_STACK_TRACES: 'off' }).workflowStackTraces).toBe(false);
  });

  it('refuses anything else, naming the variable', () => {
    for (const value of ['yes', 'true', '1', 'ON']) {
      expect(() => parseConfig({ KEEL_WORKFLOW_STACK_TRACES: value })).toThrow(ConfigError);
      expect(() => parseConfig({ KEEL_WORKFLOW_STACK_TRACES: value })).toThrow(/KEEL_WORKFLOW_STACK_TRACES/);
    }
  });
});
