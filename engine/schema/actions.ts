import { z } from 'zod';
import { selectorSchema } from './selector.ts';

const timeoutMs = z
  .number()
  .int('expected a whole number of milliseconds')
  .positive('expected a positive number of milliseconds')
  .max(3_600_000, 'expected at most 3600000 ms (one hour)');

/** Fields every action may carry. */
const common = {
  description: z.string().max(500).optional().describe('What this action is for, shown in reports.'),
  timeoutMs: timeoutMs
    .optional()
    .describe('How long this action may take, in ms. Defaults to settings.actionTimeoutMs (10000).'),
};

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name made of letters, digits and _ (not starting with a digit)')
  .refine((name) => name !== '__proto__', 'expected a variable name other than __proto__')
  .describe('Name of the variable that receives the value; use it later as {{name}}.');

const textMatcher = {
  equals: z.string().max(10_000).optional().describe('The whole value must equal this.'),
  contains: z.string().max(10_000).optional().describe('The value must contain this.'),
  matches: z.string().max(2000).optional().describe('The value must match this regular expression (JavaScript syntax).'),
};

/** Exactly one of equals / contains / matches must be given. */
function oneMatcher(value: { equals?: string | undefined; contains?: string | undefined; matches?: string | undefined }): boolean {
  return [value.equals, value.contains, value.matches].filter((v) => v !== undefined).length === 1;
}
const oneMatcherMessage = { message: 'expected exactly one of `equals`, `contains` or `matches`' };

function validRegex(value: { matches?: string | undefined }): boolean {
  if (value.matches === undefined) return true;
  try {
    new RegExp(value.matches);
    return true;
  } catch {
    return false;
  }
}
const validRegexMessage = { message: 'expected `matches` to be a valid regular expression', path: ['matches'] };

export const navigateAction = z
  .strictObject({
    type: z.literal('navigate'),
    url: z.string().min(1).max(8000).describe('Absolute URL, or a path resolved against the current page.'),
    waitUntil: z
      .enum(['load', 'domcontentloaded', 'networkidle', 'commit'])
      .optional()
      .describe('When the navigation counts as done. Default: load.'),
    ...common,
  })
  .describe('Open a URL in the current tab.');

export const clickAction = z
  .strictObject({
    type: z.literal('click'),
    selector: selectorSchema,
    button: z.enum(['left', 'right', 'middle']).optional().describe('Mouse button. Default: left.'),
    modifiers: z
      .array(z.enum(['Alt', 'Control', 'Meta', 'Shift']))
      .max(4)
      .optional()
      .describe('Keys held during the click.'),
    ...common,
  })
  .describe('Click an element (waits until it is visible, stable and enabled).');

export const doubleClickAction = z
  .strictObject({ type: z.literal('doubleClick'), selector: selectorSchema, ...common })
  .describe('Double-click an element.');

export const fillAction = z
  .strictObject({
    type: z.literal('fill'),
    selector: selectorSchema,
    value: z.string().max(100_000).describe('Text to put in the field; replaces what was there. May use {{variables}}.'),
    ...common,
  })
  .describe('Fill a text field, textarea or contenteditable element.');

export const typeAction = z
  .strictObject({
    type: z.literal('type'),
    text: z.string().min(1).max(100_000).describe('Text to type, one key press per character. May use {{variables}}.'),
    selector: selectorSchema
      .optional()
      .describe('Element to focus first (typing then starts at the end of its text); without it the keys go to the focused element.'),
    delayMs: z.number().int().min(0).max(10_000).optional().describe('Pause between key presses, in ms. Default: 0.'),
    ...common,
  })
  .describe('Type text with real key events (keydown, keypress, input, keyup per character), as a person does.');

export const clearAction = z
  .strictObject({ type: z.literal('clear'), selector: selectorSchema, ...common })
  .describe('Empty a text field, textarea or contenteditable element (the page sees an input event).');

export const setValueAction = z
  .strictObject({
    type: z.literal('setValue'),
    selector: selectorSchema,
    value: z.string().max(100_000).describe('The value the control must end with. May use {{variables}}.'),
    ...common,
  })
  .describe(
    'Set a form control to a value the way a person would; the element decides how, at replay: a <select> chooses the option (by value, then label); a checkbox or radio is checked (unchecked when the value is "false", "off" or empty); a text field, textarea or contenteditable is typed into with real key events (text that extends the current value is appended, other text replaces it); other inputs (date, range, color…) get the value and input/change events. Imported DevTools `change` steps become this.',
  );

export const pressAction = z
  .strictObject({
    type: z.literal('press'),
    key: z
      .string()
      .min(1)
      .max(100)
      .describe('Key or chord, e.g. `Enter`, `Tab`, `Escape`, `Control+A`, `ArrowDown`.'),
    selector: selectorSchema.optional().describe('Element to focus first; without it the key goes to the focused element.'),
    ...common,
  })
  .describe('Press a key.');

export const selectAction = z
  .strictObject({
    type: z.literal('select'),
    selector: selectorSchema,
    option: z
      .union([z.string().max(1000), z.array(z.string().max(1000)).min(1).max(100)])
      .describe('Option value or visible label (or several for a multi-select).'),
    ...common,
  })
  .describe('Choose option(s) in a <select>.');

export const checkAction = z
  .strictObject({ type: z.literal('check'), selector: selectorSchema, ...common })
  .describe('Check a checkbox or radio button.');

export const uncheckAction = z
  .strictObject({ type: z.literal('uncheck'), selector: selectorSchema, ...common })
  .describe('Uncheck a checkbox.');

export const hoverAction = z
  .strictObject({ type: z.literal('hover'), selector: selectorSchema, ...common })
  .describe('Move the mouse over an element.');

export const scrollAction = z
  .strictObject({
    type: z.literal('scroll'),
    selector: selectorSchema.optional().describe('Element to scroll into view. Without it, the window scrolls by x/y.'),
    x: z.number().int().min(-1_000_000).max(1_000_000).optional().describe('Horizontal scroll in CSS pixels.'),
    y: z.number().int().min(-1_000_000).max(1_000_000).optional().describe('Vertical scroll in CSS pixels.'),
    ...common,
  })
  .refine((a) => a.selector !== undefined || a.x !== undefined || a.y !== undefined, {
    message: 'expected `selector`, or `x` / `y` to scroll by',
  })
  .describe('Scroll an element into view, or scroll the window.');

const inlineFile = z.strictObject({
  name: z.string().min(1).max(255).describe('File name the page sees.'),
  mimeType: z.string().min(1).max(255).optional().describe('MIME type. Default: text/plain.'),
  text: z.string().max(5_000_000).describe('File content as text.'),
});

export const uploadAction = z
  .strictObject({
    type: z.literal('upload'),
    selector: selectorSchema,
    files: z
      .array(
        z.union([
          z.string().min(1).max(4096).describe('Path of a file, relative to the script file.'),
          inlineFile,
        ]),
      )
      .max(20)
      .describe('Files to set on the file input (an empty list clears it).'),
    ...common,
  })
  .describe('Set the files of an <input type=file>.');

export const waitForElementAction = z
  .strictObject({
    type: z.literal('waitForElement'),
    selector: selectorSchema,
    state: z
      .enum(['visible', 'hidden', 'attached', 'detached'])
      .optional()
      .describe('State to wait for. Default: visible.'),
    ...common,
  })
  .describe('Wait until an element reaches a state.');

export const waitForTextAction = z
  .strictObject({
    type: z.literal('waitForText'),
    text: z.string().min(1).max(10_000).describe('Text to wait for (substring, case-sensitive).'),
    selector: selectorSchema.optional().describe('Element whose text is watched. Default: the whole page.'),
    ...common,
  })
  .describe('Wait until a text appears.');

export const waitForUrlAction = z
  .strictObject({ type: z.literal('waitForUrl'), ...textMatcher, ...common })
  .refine(oneMatcher, oneMatcherMessage)
  .refine(validRegex, validRegexMessage)
  .describe('Wait until the current URL matches.');

export const waitForTimeAction = z
  .strictObject({
    type: z.literal('waitForTime'),
    durationMs: z.number().int().min(0).max(600_000).describe('How long to pause, in ms.'),
    description: common.description,
  })
  .describe('Pause for a fixed time. Prefer waiting for something observable.');

export const waitForNetworkIdleAction = z
  .strictObject({ type: z.literal('waitForNetworkIdle'), ...common })
  .describe('Wait until there has been no network activity for 500 ms.');

export const assertTextAction = z
  .strictObject({
    type: z.literal('assertText'),
    text: z.string().min(1).max(10_000).describe('Text expected (substring, case-sensitive).'),
    selector: selectorSchema.optional().describe('Element whose text is checked. Default: the whole page.'),
    absent: z.boolean().optional().describe('When true, the text must NOT be present.'),
    ...common,
  })
  .describe('Assert that a text is present (or absent) in the page or an element; retried until the timeout.');

const elementCount = z.number().int().min(0).max(100_000);

export const assertElementAction = z
  .strictObject({
    type: z.literal('assertElement'),
    selector: selectorSchema,
    state: z
      .enum(['visible', 'hidden'])
      .optional()
      .describe('Expected state. Default: visible (unless a count, `attributes`, `domProperties` or `negate` is given).'),
    count: elementCount.optional().describe('Exact number of matching elements expected (hidden ones count too).'),
    minCount: elementCount.optional().describe('At least this many matching elements (hidden ones count too).'),
    maxCount: elementCount.optional().describe('At most this many matching elements (hidden ones count too).'),
    attributes: z
      .record(z.string().min(1).max(200), z.string().max(10_000))
      .optional()
      .describe('Every matching element must have these attributes with exactly these values.'),
    domProperties: z
      .record(z.string().min(1).max(200), z.json())
      .optional()
      .describe('Every matching element must have these DOM properties (e.g. `{"value": "42", "dataset": {"state": "open"}}`); an object matches when every key it lists matches (deep). DevTools `properties`.'),
    negate: z
      .boolean()
      .optional()
      .describe('When true, the whole condition (count, attributes, domProperties) must NOT hold. DevTools `visible: false`.'),
    ...common,
  })
  .refine((a) => a.count === undefined || (a.minCount === undefined && a.maxCount === undefined), {
    message: 'expected `count`, or `minCount` / `maxCount`, not both',
    path: ['count'],
  })
  .refine((a) => a.minCount === undefined || a.maxCount === undefined || a.minCount <= a.maxCount, {
    message: 'expected `minCount` at most `maxCount`',
    path: ['minCount'],
  })
  .refine(
    (a) => a.state === undefined || (a.minCount === undefined && a.maxCount === undefined && a.attributes === undefined && a.domProperties === undefined && a.negate === undefined),
    { message: '`state` (visibility) cannot be combined with `minCount`, `maxCount`, `attributes`, `domProperties` or `negate` (they look at every matching element, hidden or not)', path: ['state'] },
  )
  .describe(
    'Assert that an element is visible or hidden; or a condition on the matching elements (their number, attributes, properties, possibly negated), checked on the first alternative that matches any element. Retried until the timeout.',
  );

export const assertUrlAction = z
  .strictObject({ type: z.literal('assertUrl'), ...textMatcher, ...common })
  .refine(oneMatcher, oneMatcherMessage)
  .refine(validRegex, validRegexMessage)
  .describe('Assert the current URL; retried until the timeout.');

export const assertTitleAction = z
  .strictObject({ type: z.literal('assertTitle'), ...textMatcher, ...common })
  .refine(oneMatcher, oneMatcherMessage)
  .refine(validRegex, validRegexMessage)
  .describe('Assert the page title; retried until the timeout.');

export const extractAction = z
  .strictObject({
    type: z.literal('extract'),
    variable: variableName,
    from: z
      .enum(['text', 'attribute', 'value', 'url'])
      .describe('What to read: an element`s text, one of its attributes, an input`s value, or the page URL.'),
    selector: selectorSchema.optional().describe('Element to read (required unless `from` is `url`).'),
    attribute: z.string().min(1).max(200).optional().describe('Attribute name when `from` is `attribute`.'),
    urlPart: z
      .enum(['href', 'origin', 'host', 'pathname', 'search', 'hash', 'param'])
      .optional()
      .describe('Part of the URL when `from` is `url`. Default: href.'),
    param: z.string().min(1).max(200).optional().describe('Query parameter name when `urlPart` is `param`.'),
    pattern: z
      .string()
      .max(2000)
      .optional()
      .describe('Regular expression applied to the value; its first capture group (or the whole match) is kept.'),
    ...common,
  })
  .refine((a) => a.from === 'url' || a.selector !== undefined, {
    message: 'expected `selector` unless `from` is `url`',
    path: ['selector'],
  })
  .refine((a) => a.from !== 'attribute' || a.attribute !== undefined, {
    message: 'expected `attribute` when `from` is `attribute`',
    path: ['attribute'],
  })
  .refine((a) => a.urlPart !== 'param' || a.param !== undefined, {
    message: 'expected `param` when `urlPart` is `param`',
    path: ['param'],
  })
  .refine((a) => validRegex({ matches: a.pattern }), { message: 'expected `pattern` to be a valid regular expression', path: ['pattern'] })
  .describe('Read a value from the page into a variable.');

export const evaluateAction = z
  .strictObject({
    type: z.literal('evaluate'),
    expression: z
      .string()
      .min(1)
      .max(100_000)
      .describe('JavaScript expression evaluated in the page (a returned promise is awaited).'),
    variable: variableName.optional(),
    ...common,
  })
  .describe('Evaluate JavaScript in the current frame; the result (as text) can go into a variable.');

export const switchFrameAction = z
  .strictObject({
    type: z.literal('switchFrame'),
    selector: selectorSchema.optional().describe('The <iframe> element to enter.'),
    name: z.string().min(1).max(500).optional().describe('Frame name attribute.'),
    urlContains: z.string().min(1).max(2000).optional().describe('A text the frame URL contains.'),
    ...common,
  })
  .refine((a) => [a.selector, a.name, a.urlContains].filter((v) => v !== undefined).length === 1, {
    message: 'expected exactly one of `selector`, `name` or `urlContains`',
  })
  .describe('Run the following actions inside a frame of the current page.');

export const switchToMainFrameAction = z
  .strictObject({ type: z.literal('switchToMainFrame'), description: common.description })
  .describe('Run the following actions in the top-level document again.');

export const switchTabAction = z
  .strictObject({
    type: z.literal('switchTab'),
    to: z
      .enum(['latest', 'main'])
      .optional()
      .describe('`latest`: the most recently opened tab or popup (waits for one to open); `main`: the first tab. Default: latest.'),
    urlContains: z.string().min(1).max(2000).optional().describe('Instead of `to`: the tab whose URL contains this.'),
    ...common,
  })
  .describe('Run the following actions in another tab or popup.');

export const closeTabAction = z
  .strictObject({ type: z.literal('closeTab'), description: common.description })
  .describe('Close the current tab (not the main one) and return to the main tab.');

export const setViewportAction = z
  .strictObject({
    type: z.literal('setViewport'),
    width: z.number().int().min(100).max(10_000).describe('Width in CSS pixels.'),
    height: z.number().int().min(100).max(10_000).describe('Height in CSS pixels.'),
    description: common.description,
  })
  .describe('Resize the viewport of the current tab.');

/** Every action type, discriminated by `type`. */
export const actionSchema = z.discriminatedUnion('type', [
  navigateAction,
  clickAction,
  doubleClickAction,
  fillAction,
  typeAction,
  clearAction,
  setValueAction,
  pressAction,
  selectAction,
  checkAction,
  uncheckAction,
  hoverAction,
  scrollAction,
  uploadAction,
  waitForElementAction,
  waitForTextAction,
  waitForUrlAction,
  waitForTimeAction,
  waitForNetworkIdleAction,
  assertTextAction,
  assertElementAction,
  assertUrlAction,
  assertTitleAction,
  extractAction,
  evaluateAction,
  switchFrameAction,
  switchToMainFrameAction,
  switchTabAction,
  closeTabAction,
  setViewportAction,
]);

export type Action = z.infer<typeof actionSchema>;
export type ActionType = Action['type'];
export type ActionOf<T extends ActionType> = Extract<Action, { type: T }>;

/** The action type names, in schema order (used in error messages and tests). */
export const actionTypes: readonly ActionType[] = actionSchema.options.map((o) => o.shape.type.value);
