import { condition, isCancellation } from '@temporalio/workflow';
import type {
  DefineOutcomeInput,
  GradeOutcomeResult,
  OutcomeEvaluationView,
  OutcomeResult,
  OutcomeState,
} from '../common/outcome';
import type { ArchivedEventsRef } from '../common/event-archives';
import { capWork, workItems } from '../common/iteration-work';
import { addUsage, emptyUsage } from '../common/session';
import { gradeOutcome } from './activities';
import { decideModelFailure } from './model-failures';
import {
  activeOutcome,
  decideAfterEvaluation,
  defineOutcomeProblem,
  evaluationEndResult,
  finalTurnMessage,
  outcomeView,
  resolveMaxIterations,
  revisionMessage,
} from './outcome-rules';
import type { Turn, TurnContext, TurnOutcome } from './turn';

/** How often `span.outcome_evaluation_ongoing` is logged while the grader runs (one is logged as it starts). */
const ONGOING_EVERY = '15 seconds';

/**
 * The session's outcomes (`user.define_outcome`): their state, the events they log, and the evaluation that follows
 * each turn working on one. A turn on an outcome does not go idle when the model ends it: the grader (the
 * `gradeOutcome` Activity, its own context) evaluates the work; `needs_revision` hands its explanation back to the
 * agent as a user message and the work goes on in a new turn, until the outcome is satisfied, failed, out of
 * iterations or interrupted. The session stays `running` throughout. All state lives in the Workflow (and crosses
 * continue-as-new in `snapshot`).
 */
export class SessionOutcomes {
  private readonly outcomes: OutcomeState[];
  /** The id of the `span.outcome_evaluation_start` of the evaluation under way, if one is. */
  private evaluationStartId: string | null = null;

  constructor(
    carried: OutcomeState[],
    private readonly context: TurnContext,
    /** Called when an outcome's state changes outside a status change, so the session's listing shows it. */
    private readonly onChange: () => void,
    /** Where the events of the runs before this one are archived, for a grader whose iteration began in one. */
    private readonly archived: ArchivedEventsRef = { archives: [], archiveIndexKey: null },
  ) {
    this.outcomes = carried;
  }

  /** Why a new outcome cannot be defined now (one is still worked on), or `null`. */
  defineProblem(): string | null {
    return defineOutcomeProblem(this.outcomes);
  }

  /** Logs the `user.define_outcome` echo and records the outcome as `pending` until its turn starts. */
  define(input: DefineOutcomeInput): void {
    const { log } = this.context;
    log.append({
      type: 'user.define_outcome',
      id: input.id,
      outcome_id: input.outcomeId,
      description: input.description,
      rubric: input.rubric,
      max_iterations: input.maxIterations,
    });
    this.outcomes.push({
      outcomeId: input.outcomeId,
      description: input.description,
      rubric: input.rubric,
      maxIterations: resolveMaxIterations(input.maxIterations),
      iteration: 0,
      result: 'pending',
      explanation: null,
      completedAt: null,
      workFrom: log.nextPosition,
    });
    this.onChange();
  }

  /** Marks the outcome `running` as the turn whose input is its description starts. */
  start(outcomeId: string): void {
    const outcome = this.outcomes.find((candidate) => candidate.outcomeId === outcomeId);
    if (outcome === undefined || outcome.result !== 'pending') return;
    outcome.result = 'running';
    outcome.workFrom = this.context.log.nextPosition;
  }

  /** Whether the next turn works on an outcome: its `end_turn` is then evaluated before the session goes idle. */
  holdsEndTurn(): boolean {
    return this.working() !== null;
  }

  /**
   * Runs `turn` (built with `holdEndTurn: holdsEndTurn()`); when it works on an outcome and the model ends it, the
   * grader evaluates the work. Returns `next-turn` when the work goes on in a new turn (a revision, or the last turn
   * after `max_iterations_reached`). A cancellation (interrupt, or the session's end) ends the outcome as
   * `interrupted` and propagates.
   */
  async runTurn(turn: Turn): Promise<TurnOutcome> {
    const outcome = this.working();
    if (outcome === null) return turn.run();
    try {
      const ended = await turn.run();
      if (ended.kind !== 'ended') return ended;
      return await this.evaluate(outcome, turn);
    } catch (error) {
      if (isCancellation(error)) this.interrupt(outcome);
      throw error;
    }
  }

  /** An interrupt while no turn runs ends an outcome left `running` (its last turn failed) as `interrupted`. */
  interruptIdle(): void {
    const outcome = this.working();
    if (outcome !== null) this.interrupt(outcome);
  }

  /** The session object's `outcome_evaluations`, oldest first. */
  views(): OutcomeEvaluationView[] {
    return this.outcomes.map(outcomeView);
  }

  /** The outcomes to carry into the next run; empty when the session has defined none. */
  snapshot(): OutcomeState[] {
    return this.outcomes;
  }

  /** The outcome the agent is working on (or being evaluated on), if any. */
  private working(): OutcomeState | null {
    const active = activeOutcome(this.outcomes);
    return active !== null && active.result !== 'pending' ? active : null;
  }

  /** Evaluates the iteration's work and carries out what the rules decide. */
  private async evaluate(outcome: OutcomeState, turn: Turn): Promise<TurnOutcome> {
    const { log, state } = this.context;
    outcome.result = 'evaluating';
    const start = log.append({
      type: 'span.outcome_evaluation_start',
      outcome_id: outcome.outcomeId,
      iteration: outcome.iteration,
    });
    this.evaluationStartId = start.id;
    this.onChange();
    const graded = await this.grade(outcome);
    addUsage(state.usage, graded.usage);
    const next = decideAfterEvaluation({
      verdict: graded.verdict,
      iteration: outcome.iteration,
      maxIterations: outcome.maxIterations,
    });
    this.endEvaluation(outcome, evaluationEndResult(next), graded.explanation, graded.usage);
    outcome.explanation = graded.explanation;
    switch (next.kind) {
      case 'done':
        this.finish(outcome, next.result);
        return turn.endTurn();
      case 'revise':
        outcome.iteration = next.iteration;
        outcome.result = 'running';
        outcome.workFrom = log.nextPosition;
        state.conversation.addUserMessage([
          { type: 'text', text: revisionMessage(graded.explanation, next.iteration) },
        ]);
        this.onChange();
        return { kind: 'next-turn' };
      case 'final_turn':
        this.finish(outcome, next.result);
        state.conversation.addUserMessage([{ type: 'text', text: finalTurnMessage(graded.explanation) }]);
        return { kind: 'next-turn' };
    }
  }

  /**
   * Runs the grader, logging `span.outcome_evaluation_ongoing` as it starts and every `ONGOING_EVERY` until it
   * answers. When its retries run out, the failure is logged as `session.error` and the evaluation is `failed`.
   */
  private async grade(outcome: OutcomeState): Promise<GradeOutcomeResult> {
    const { log, sessionId, agent } = this.context;
    const { work, storedResults, toolLineCount } = capWork(
      workItems(log.after(outcome.workFrom - 1, Number.MAX_SAFE_INTEGER)),
    );
    // A run that continued-as-new mid-work holds only its own events: the Activity reads the earlier ones from the
    // archives; a session whose earlier runs wrote none tells the grader what it does not see.
    const unseen = log.firstPosition - outcome.workFrom;
    const archived = this.archived.archives.length > 0 || this.archived.archiveIndexKey !== null;
    if (unseen > 0 && !archived) {
      work.toolAccount.unshift(`(${unseen} earlier events of this iteration, in an earlier run, not shown)`);
      storedResults.forEach((result) => (result.index += 1));
    }
    let settled = false;
    const grading = gradeOutcome({
      sessionId,
      model: agent.model,
      rubric: outcome.rubric,
      description: outcome.description,
      ...work,
      iteration: outcome.iteration,
      ...(storedResults.length === 0 ? {} : { storedResults }),
      toolLineCount,
      ...(unseen > 0 && archived
        ? { earlierEvents: { ...this.archived, from: outcome.workFrom, until: log.firstPosition } }
        : {}),
    }).then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    void grading.then(() => (settled = true));
    const ongoing = (): void => {
      log.append({
        type: 'span.outcome_evaluation_ongoing',
        outcome_id: outcome.outcomeId,
        iteration: outcome.iteration,
      });
    };
    ongoing();
    while (!(await condition(() => settled, ONGOING_EVERY))) ongoing();
    const graded = await grading;
    if (graded.ok) return graded.result;
    if (isCancellation(graded.error)) throw graded.error;
    const decision = decideModelFailure(graded.error, 1);
    log.append({ type: 'session.error', error: { ...decision.error, retry_status: { type: 'exhausted' } } });
    return {
      verdict: 'failed',
      explanation: `The grader could not evaluate the work: ${decision.error.message}`,
      usage: emptyUsage(),
    };
  }

  /** Ends an outcome on an interrupt; an evaluation under way gets its end event with `interrupted`. */
  private interrupt(outcome: OutcomeState): void {
    if (outcome.result === 'evaluating') {
      this.endEvaluation(outcome, 'interrupted', 'The user interrupted the evaluation.', emptyUsage());
    }
    this.finish(outcome, 'interrupted');
    this.onChange();
  }

  private endEvaluation(
    outcome: OutcomeState,
    result: string,
    explanation: string,
    usage: GradeOutcomeResult['usage'],
  ): void {
    this.context.log.append({
      type: 'span.outcome_evaluation_end',
      outcome_evaluation_start_id: this.evaluationStartId ?? '',
      outcome_id: outcome.outcomeId,
      iteration: outcome.iteration,
      result,
      explanation,
      usage,
    });
    this.evaluationStartId = null;
  }

  private finish(outcome: OutcomeState, result: OutcomeResult): void {
    outcome.result = result;
    outcome.completedAt = this.context.log.lastEvent?.processed_at ?? null;
  }
}
