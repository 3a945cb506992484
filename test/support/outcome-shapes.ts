import type {
  BetaManagedAgentsSpanModelUsage,
  BetaManagedAgentsSpanOutcomeEvaluationEndEvent,
  BetaManagedAgentsSpanOutcomeEvaluationOngoingEvent,
  BetaManagedAgentsSpanOutcomeEvaluationStartEvent,
  BetaManagedAgentsUserDefineOutcomeEvent,
} from '@anthropic-ai/sdk/resources/beta/sessions/events';
import type { BetaManagedAgentsOutcomeEvaluationResource } from '@anthropic-ai/sdk/resources/beta/sessions/sessions';
import type { Shape } from './conformance';

/** The run-time shapes of the outcome events and of `outcome_evaluations`, for the conformance and outcome tests. */

/** `usage` of `span.outcome_evaluation_end` (no `speed`: Keel has no fast mode). */
export const spanUsageShape: Shape<BetaManagedAgentsSpanModelUsage> = {
  cache_creation_input_tokens: 'number',
  cache_read_input_tokens: 'number',
  input_tokens: 'number',
  output_tokens: 'number',
  speed: 'absent',
};
/** The `user.define_outcome` echo. */
export const defineOutcomeShape: Shape<BetaManagedAgentsUserDefineOutcomeEvent> = {
  id: { id: 'sevt_' },
  type: { literal: 'user.define_outcome' },
  description: 'string',
  max_iterations: ['number', 'null'],
  outcome_id: { id: 'outc_' },
  processed_at: 'string',
  rubric: 'object',
};
/** `span.outcome_evaluation_start`. */
export const evaluationStartShape: Shape<BetaManagedAgentsSpanOutcomeEvaluationStartEvent> = {
  id: { id: 'sevt_' },
  type: { literal: 'span.outcome_evaluation_start' },
  iteration: 'number',
  outcome_id: { id: 'outc_' },
  processed_at: 'string',
};
/** `span.outcome_evaluation_ongoing`. */
export const evaluationOngoingShape: Shape<BetaManagedAgentsSpanOutcomeEvaluationOngoingEvent> = {
  ...evaluationStartShape,
  type: { literal: 'span.outcome_evaluation_ongoing' },
};
/** `span.outcome_evaluation_end`. */
export const evaluationEndShape: Shape<BetaManagedAgentsSpanOutcomeEvaluationEndEvent> = {
  id: { id: 'sevt_' },
  type: { literal: 'span.outcome_evaluation_end' },
  explanation: 'string',
  iteration: 'number',
  outcome_evaluation_start_id: { id: 'sevt_' },
  outcome_id: { id: 'outc_' },
  processed_at: 'string',
  result: 'string',
  usage: 'object',
};
/** An entry of the session object's `outcome_evaluations`. */
export const outcomeEvaluationShape: Shape<BetaManagedAgentsOutcomeEvaluationResource> = {
  type: { literal: 'outcome_evaluation' },
  completed_at: ['string', 'null'],
  description: 'string',
  explanation: ['string', 'null'],
  iteration: 'number',
  outcome_id: { id: 'outc_' },
  result: 'string',
};
