// Zod mirror of the Chrome DevTools Recorder / @puppeteer/replay JSON format (`Schema.ts`, validated like
// `SchemaUtils.parse`): required click offsets, timeouts of 1–30000 ms, known `button` and `deviceType` values.
// Objects are loose: unknown fields are kept, so a recording survives a round trip through our tools.
import { z } from 'zod';

/** @puppeteer/replay's bounds for `timeout` (flow and step). */
export const devtoolsMinTimeoutMs = 1;
export const devtoolsMaxTimeoutMs = 30_000;
/** The runner's default when neither the step nor the flow sets a timeout. */
export const devtoolsDefaultTimeoutMs = 5000;

const timeout = z
  .number()
  .min(devtoolsMinTimeoutMs, `expected a timeout of at least ${devtoolsMinTimeoutMs} ms`)
  .max(devtoolsMaxTimeoutMs, `expected a timeout of at most ${devtoolsMaxTimeoutMs} ms`);

/** One selector alternative: a string, or a chain whose parts are each scoped to the previous match. */
export const devtoolsSelectorSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
export type DevtoolsSelector = z.infer<typeof devtoolsSelectorSchema>;

export const devtoolsAssertedEventSchema = z.looseObject({
  type: z.literal('navigation'),
  url: z.string().optional(),
  title: z.string().optional(),
});
export type DevtoolsAssertedEvent = z.infer<typeof devtoolsAssertedEventSchema>;

const base = {
  timeout: timeout.optional(),
  assertedEvents: z.array(devtoolsAssertedEventSchema).optional(),
};
const withTarget = { ...base, target: z.string().min(1).optional() };
const withFrame = { ...withTarget, frame: z.array(z.number().int().min(0)).optional() };
const withSelectors = { ...withFrame, selectors: z.array(devtoolsSelectorSchema).min(1, 'expected at least one selector') };

const clickAttributes = {
  ...withSelectors,
  offsetX: z.number(),
  offsetY: z.number(),
  button: z.enum(['primary', 'auxiliary', 'secondary', 'back', 'forward']).optional(),
  deviceType: z.enum(['mouse', 'pen', 'touch']).optional(),
  duration: z.number().min(0).optional(),
};

export const devtoolsNavigateStep = z.looseObject({ type: z.literal('navigate'), url: z.string().min(1), ...withFrame });
export const devtoolsClickStep = z.looseObject({ type: z.literal('click'), ...clickAttributes });
export const devtoolsDoubleClickStep = z.looseObject({ type: z.literal('doubleClick'), ...clickAttributes });
export const devtoolsHoverStep = z.looseObject({ type: z.literal('hover'), ...withSelectors });
export const devtoolsChangeStep = z.looseObject({ type: z.literal('change'), value: z.string(), ...withSelectors });
export const devtoolsKeyDownStep = z.looseObject({ type: z.literal('keyDown'), key: z.string().min(1), ...withTarget });
export const devtoolsKeyUpStep = z.looseObject({ type: z.literal('keyUp'), key: z.string().min(1), ...withTarget });
export const devtoolsScrollStep = z.looseObject({
  type: z.literal('scroll'),
  x: z.number().optional(),
  y: z.number().optional(),
  ...withFrame,
  selectors: z.array(devtoolsSelectorSchema).optional(),
});
export const devtoolsWaitForElementStep = z.looseObject({
  type: z.literal('waitForElement'),
  operator: z.enum(['>=', '==', '<=']).optional(),
  count: z.number().int().min(0).optional(),
  visible: z.boolean().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  ...withSelectors,
});
export const devtoolsWaitForExpressionStep = z.looseObject({ type: z.literal('waitForExpression'), expression: z.string().min(1), ...withFrame });
export const devtoolsSetViewportStep = z.looseObject({
  type: z.literal('setViewport'),
  width: z.number(),
  height: z.number(),
  deviceScaleFactor: z.number(),
  isMobile: z.boolean(),
  hasTouch: z.boolean(),
  isLandscape: z.boolean(),
  ...withTarget,
});
export const devtoolsEmulateNetworkConditionsStep = z.looseObject({
  type: z.literal('emulateNetworkConditions'),
  download: z.number(),
  upload: z.number(),
  latency: z.number(),
  ...withTarget,
});
export const devtoolsCloseStep = z.looseObject({ type: z.literal('close'), ...withTarget });
export const devtoolsCustomStep = z.looseObject({ type: z.literal('customStep'), name: z.string().min(1), parameters: z.unknown(), ...withFrame });

/** Every step type, discriminated by `type` (unknown types fail, like `Step type X is not supported`). */
export const devtoolsStepSchema = z.discriminatedUnion('type', [
  devtoolsNavigateStep,
  devtoolsClickStep,
  devtoolsDoubleClickStep,
  devtoolsHoverStep,
  devtoolsChangeStep,
  devtoolsKeyDownStep,
  devtoolsKeyUpStep,
  devtoolsScrollStep,
  devtoolsWaitForElementStep,
  devtoolsWaitForExpressionStep,
  devtoolsSetViewportStep,
  devtoolsEmulateNetworkConditionsStep,
  devtoolsCloseStep,
  devtoolsCustomStep,
]);
export type DevtoolsStep = z.infer<typeof devtoolsStepSchema>;
export type DevtoolsStepType = DevtoolsStep['type'];
export type DevtoolsStepOf<T extends DevtoolsStepType> = Extract<DevtoolsStep, { type: T }>;

export const devtoolsStepTypes: readonly DevtoolsStepType[] = devtoolsStepSchema.options.map((o) => o.shape.type.value);

/** A whole recording (`UserFlow`). */
export const devtoolsRecordingSchema = z.looseObject({
  title: z.string(),
  timeout: timeout.optional(),
  selectorAttribute: z.string().optional(),
  steps: z.array(devtoolsStepSchema),
});
export type DevtoolsRecording = z.infer<typeof devtoolsRecordingSchema>;

/** Just the envelope: what makes a JSON value a DevTools recording at all (steps are checked one by one). */
export const devtoolsEnvelopeSchema = z.looseObject({
  title: z.string(),
  timeout: timeout.optional(),
  selectorAttribute: z.string().optional(),
  steps: z.array(z.unknown()),
});
