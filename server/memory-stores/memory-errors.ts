import { ApiError } from '../api-error';

/** The memory API's own error types (409s), besides the Anthropic API's (`API_ERROR_STATUS`). */
export const MEMORY_ERROR_TYPES = ['memory_precondition_failed_error', 'memory_path_conflict_error'] as const;

/**
 * A 409 whose `error.type` is one of the memory API's own (`memory_precondition_failed_error`,
 * `memory_path_conflict_error`, as `BetaManagedAgentsErrorObject` lists them), with the fields that type documents.
 */
export class MemoryConflictError extends ApiError {
  constructor(
    readonly memoryErrorType: (typeof MEMORY_ERROR_TYPES)[number],
    message: string,
    private readonly fields: Record<string, string> = {},
  ) {
    super('conflict_error', message);
  }

  /** The response body, with the memory error type and its fields. */
  override toBody(): { type: 'error'; error: { type: 'conflict_error'; message: string } } {
    // The body's type is the memory error's; the declared return type is the base class's.
    return {
      type: 'error',
      error: { type: this.memoryErrorType, message: this.message, ...this.fields } as unknown as {
        type: 'conflict_error';
        message: string;
      },
    };
  }
}

/** The 409 of a precondition that does not hold (`memory_precondition_failed_error`). */
export function preconditionFailed(memoryId: string, field: string): MemoryConflictError {
  return new MemoryConflictError(
    'memory_precondition_failed_error',
    `${field}: memory ${memoryId} no longer has that content_sha256; retrieve it and retry.`,
  );
}

/** The 409 of a path that another memory uses or overlaps (`memory_path_conflict_error`). */
export function pathConflict(path: string, conflictingId: string, conflictingPath: string): MemoryConflictError {
  const how = conflictingPath === path ? 'is used by' : 'overlaps the path of';
  return new MemoryConflictError(
    'memory_path_conflict_error',
    `path: ${path} ${how} memory ${conflictingId} (${conflictingPath}).`,
    { conflicting_memory_id: conflictingId, conflicting_path: conflictingPath },
  );
}

/** The 404 of an unknown store. */
export function memoryStoreNotFound(storeId: string): ApiError {
  return new ApiError('not_found_error', `No memory store ${storeId}.`);
}

/** The 409 of a write an archived store refuses. */
export function memoryStoreArchived(storeId: string, what: string): ApiError {
  return new ApiError('conflict_error', `Memory store ${storeId} is archived; ${what}.`);
}
