import type { CallModelInput, CallModelResult } from '../../common/model';
import { callModel } from './call-model';
import type { CallModelDependencies } from './call-model';

/** The model Activities, bound to the worker's client and live bus. */
export function createModelActivities(dependencies: CallModelDependencies): {
  callModel(input: CallModelInput): Promise<CallModelResult>;
} {
  return {
    callModel: (input) => callModel(input, dependencies),
  };
}
