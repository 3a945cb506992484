/**
 * The closed set of failure types Keel's Activities raise as `ApplicationFailure.type`. The Workflow maps each to a
 * `session.error` object; the retry policy lists the non-retryable ones.
 */
export const FAILURE_TYPES = {
  /** 429 from the model endpoint: retryable, honouring `retry-after`. */
  modelRateLimited: 'ModelRateLimited',
  /** 529 from the model endpoint: retryable. */
  modelOverloaded: 'ModelOverloaded',
  /** 408 / 409 / 5xx or a network failure: retryable. */
  modelUnavailable: 'ModelUnavailable',
  /** 400 / 401 / 403 / 404 / 422: the request itself is wrong, never retried. */
  modelRequestRejected: 'ModelRequestRejected',
  /** 400 "prompt is too long": the conversation outgrew the context window; the harness compacts and calls again. */
  modelPromptTooLong: 'ModelPromptTooLong',
  /** Compaction cannot make room in the context window (the most recent messages alone do not fit). */
  compactionLimitReached: 'CompactionLimitReached',
  /** The sandbox image is not on the Docker host: run `npm run setup` or fix `KEEL_SANDBOX_IMAGE`. */
  sandboxImageMissing: 'SandboxImageMissing',
  /** Installing an environment's apt / pip / npm packages into the sandbox image failed: the lists must change. */
  sandboxPackagesFailed: 'SandboxPackagesFailed',
  /** The sandbox networks cannot be set up safely (no host firewall, a conflicting Docker network). */
  sandboxNetworkUnavailable: 'SandboxNetworkUnavailable',
} as const;

/** One of `FAILURE_TYPES`. */
export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];

/** Failure types a retry cannot fix. */
export const NON_RETRYABLE_FAILURE_TYPES: FailureType[] = [
  FAILURE_TYPES.modelRequestRejected,
  FAILURE_TYPES.modelPromptTooLong,
  FAILURE_TYPES.compactionLimitReached,
  FAILURE_TYPES.sandboxImageMissing,
  FAILURE_TYPES.sandboxPackagesFailed,
  FAILURE_TYPES.sandboxNetworkUnavailable,
];
