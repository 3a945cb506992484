import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * The search attributes every session carries, so the Temporal UI and `temporal workflow list` can filter sessions
 * by status and agent. They must exist in the namespace (the embedded dev server registers them).
 */
export const SEARCH_ATTRIBUTES = {
  status: defineSearchAttributeKey('KeelStatus', 'KEYWORD'),
  agent: defineSearchAttributeKey('KeelAgent', 'KEYWORD'),
} as const;
