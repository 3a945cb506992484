import { CancelledFailure } from '@temporalio/common';

/** The error a cancelled run rejects with: the signal's reason (Temporal's cancellation), or a `CancelledFailure`. */
export function cancellationOf(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new CancelledFailure(typeof reason === 'string' ? reason : 'cancelled');
}
