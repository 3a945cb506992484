import { defineSearchAttributeKey } from '@temporalio/common';

/**
 * The search attributes every session carries, so the Temporal UI and `temporal workflow list` can filter sessions
 * by status, agent and agent version. They must exist in the namespace (the embedded dev server registers them).
 */
export const SEARCH_ATTRIBUTES = {
  status: defineSearchAttributeKey('KeelStatus', 'KEYWORD'),
  agent: defineSearchAttributeKey('KeelAgent', 'KEYWORD'),
  /** The version of the agent the session runs (set when it is created), for `sessions.list`'s `agent_version`. */
  agentVersion: defineSearchAttributeKey('KeelAgentVersion', 'INT'),
  /** The memory stores the session mounts (set when it is created), for `sessions.list`'s `memory_store_id`. */
  memoryStores: defineSearchAttributeKey('KeelMemoryStores', 'KEYWORD_LIST'),
  /** The deployment that created the session, if one did, for `sessions.list`'s `deployment_id`. */
  deployment: defineSearchAttributeKey('KeelDeployment', 'KEYWORD'),
} as const;
