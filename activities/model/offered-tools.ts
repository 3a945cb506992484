import type { CallModelInput, Tool } from '../../common/model';

/** The tools of a request: the built-in ones by name (their definitions live in the worker), then the extra ones. */
export function offeredTools(
  input: Pick<CallModelInput, 'toolNames' | 'extraTools'>,
  definitions: ReadonlyMap<string, Tool>,
): Tool[] {
  return [
    ...input.toolNames.flatMap((name) => {
      const definition = definitions.get(name);
      return definition === undefined ? [] : [definition];
    }),
    ...(input.extraTools ?? []),
  ];
}
