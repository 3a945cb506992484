import type { BetaDream } from '@anthropic-ai/sdk/resources/beta/dreams';
import type { StoredDream } from '../store/dream-repository';

/**
 * The dream object of the hosted API (`BetaDream`) for a stored dream. `outputs` names the output store once the dream
 * has started (`pending` shows none, as the hosted API does); the sessions input lists its ids sorted.
 */
export function toDreamView(dream: StoredDream): BetaDream {
  return {
    id: dream.id,
    type: 'dream',
    status: dream.status,
    inputs: dream.inputs,
    outputs: dream.status === 'pending' ? [] : [{ type: 'memory_store', memory_store_id: dream.outputMemoryStoreId }],
    model: dream.model,
    instructions: dream.instructions,
    output_behavior: dream.outputBehavior,
    session_id: dream.sessionId,
    created_at: dream.createdAt,
    ended_at: dream.endedAt,
    archived_at: dream.archivedAt,
    usage: dream.usage,
    error: dream.error,
  };
}
