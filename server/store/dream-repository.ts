import type { BetaDream } from '@anthropic-ai/sdk/resources/beta/dreams';
import type { ArchivableRecordRepository } from './control-plane-store';

/** The statuses of a dream, as the hosted API names them; `completed`, `failed` and `canceled` are final. */
export type DreamStatus = BetaDream['status'];

/**
 * A dream as stored: the request that created it and what Keel last learned of its session. `status`, `endedAt`,
 * `error`, `outputs` and `usage` are refreshed from the session whenever the dream is read, and never change again
 * once `status` is final.
 */
export interface StoredDream {
  id: string;
  /** The workspace the record belongs to (see common/workspace.ts); a key of another workspace never sees it. */
  workspaceId: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  status: DreamStatus;
  inputs: BetaDream['inputs'];
  model: BetaDream['model'];
  instructions: string | null;
  outputBehavior: BetaDream['output_behavior'];
  /** The memory store the dream writes (created with the dream); shown in `outputs` once the dream runs. */
  outputMemoryStoreId: string;
  sessionId: string | null;
  endedAt: string | null;
  error: BetaDream['error'];
  usage: BetaDream['usage'];
}

/** Dreams: one row each, listed newest first, archived in place. */
export type DreamRepository = ArchivableRecordRepository<StoredDream>;

/** The JSON column of a dream row: every field but the common columns and `status`. */
export type DreamDefinition = Omit<
  StoredDream,
  'id' | 'workspaceId' | 'createdAt' | 'updatedAt' | 'archivedAt' | 'status'
>;

/** The columns of a dream row beyond the common archivable ones, as both stores read them. */
export interface DreamRowColumns {
  id: string;
  workspace_id: string;
  created_at: string;
  updated_at: string;
  archived_at: string | null;
  status: string;
  definition: string;
}

/** The `definition` column of a dream. */
export function dreamDefinitionOf(dream: StoredDream): string {
  const definition: DreamDefinition = {
    inputs: dream.inputs,
    model: dream.model,
    instructions: dream.instructions,
    outputBehavior: dream.outputBehavior,
    outputMemoryStoreId: dream.outputMemoryStoreId,
    sessionId: dream.sessionId,
    endedAt: dream.endedAt,
    error: dream.error,
    usage: dream.usage,
  };
  return JSON.stringify(definition);
}

/** A dream read from its row (the SQLite and PostgreSQL stores share it). */
export function toStoredDream(row: DreamRowColumns): StoredDream {
  return {
    ...(JSON.parse(row.definition) as DreamDefinition),
    id: row.id,
    workspaceId: row.workspace_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    archivedAt: row.archived_at,
    status: row.status as DreamStatus,
  };
}
