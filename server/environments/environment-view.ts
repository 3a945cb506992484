import type { BetaEnvironment } from '@anthropic-ai/sdk/resources/beta/environments/environments';
import type { StoredEnvironment } from '../store/control-plane-store';

/** The environment object of the hosted API (`BetaEnvironment`) for a stored environment. */
export function toEnvironmentView(environment: StoredEnvironment): BetaEnvironment {
  return {
    id: environment.id,
    type: 'environment',
    ...environment.definition,
    created_at: environment.createdAt,
    updated_at: environment.updatedAt,
    archived_at: environment.archivedAt,
  };
}
