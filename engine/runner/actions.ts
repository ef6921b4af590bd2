import type { Action, ActionType } from '../schema/actions.ts';
import { assertionHandlers } from './actions/assertions.ts';
import { dataHandlers } from './actions/data.ts';
import { frameTabHandlers } from './actions/frames-tabs.ts';
import { inputHandlers } from './actions/input.ts';
import { navigationHandlers } from './actions/navigation.ts';
import type { ActionEnvironment, ActionHandler, ActionHandlers, ActionOutcome } from './actions/types.ts';
import { typingHandlers } from './actions/typing.ts';
import { waitHandlers } from './actions/waits.ts';

export type { ActionEnvironment, ActionOutcome } from './actions/types.ts';

/** Every action type has exactly one handler; leaving one out is a compile error here. */
const handlers: ActionHandlers = {
  ...navigationHandlers,
  ...inputHandlers,
  ...typingHandlers,
  ...waitHandlers,
  ...assertionHandlers,
  ...frameTabHandlers,
  ...dataHandlers,
};

/**
 * Execute one action (already rendered: no placeholders left) within `env.deadline`. Throws EngineError with
 * a message that does not yet name the step or action; the runner adds that.
 */
export function executeAction(action: Action, env: ActionEnvironment): Promise<ActionOutcome> {
  return run(action, env);
}

function run<T extends ActionType>(action: Extract<Action, { type: T }>, env: ActionEnvironment): Promise<ActionOutcome> {
  // TypeScript cannot tie `handlers[action.type]` to the action's own type; the mapped type guarantees it.
  const handler = handlers[action.type] as ActionHandler<T>;
  return handler(action, env);
}
