import type { CompactConversationInput, CompactConversationResult } from '../../common/conversation';
import type { CallModelInput, CallModelResult } from '../../common/model';
import { callModel } from './call-model';
import type { CallModelDependencies } from './call-model';
import { compactConversation } from './compact-conversation';
import { evaluatePermission } from './evaluate-permission';
import { gradeOutcome } from './grade-outcome';
import type { GradeOutcomeDependencies } from './grade-outcome';
import type { GradeOutcomeInput, GradeOutcomeResult } from '../../common/outcome';
import type { AutoVerdict, EvaluatePermissionInput } from '../../common/permission';

/** The model Activities, bound to the worker's client, live bus, conversation store and blob store. */
export function createModelActivities(dependencies: CallModelDependencies & Pick<GradeOutcomeDependencies, 'blobs'>): {
  callModel(input: CallModelInput): Promise<CallModelResult>;
  compactConversation(input: CompactConversationInput): Promise<CompactConversationResult>;
  evaluatePermission(input: EvaluatePermissionInput): Promise<AutoVerdict>;
  gradeOutcome(input: GradeOutcomeInput): Promise<GradeOutcomeResult>;
} {
  return {
    callModel: (input) => callModel(input, dependencies),
    compactConversation: (input) => compactConversation(input, dependencies),
    evaluatePermission: (input) => evaluatePermission(input, dependencies),
    gradeOutcome: (input) => gradeOutcome(input, dependencies),
  };
}
