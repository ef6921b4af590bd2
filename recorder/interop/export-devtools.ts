// Our transaction script → Chrome DevTools Recorder JSON. What DevTools can replay the same way maps to its own
// step; what it can only approximate maps to the nearest step carrying the original action in a `checkpoint`
// field (ignored by DevTools, used by our importer); what it cannot do at all becomes a `checkpoint.action`
// customStep (a no-op in DevTools). Everything not replayed the same way is a problem at its path.
import type { Action, ActionOf, Script } from '../../engine/index.ts';
import { devtoolsMaxTimeoutMs, type DevtoolsRecording, type DevtoolsStep } from './devtools-schema.ts';
import { actionField, actionStepName, continuedMarker, parsePollingExpression, scriptField, stepMarkerName, type InteropProblem, type ScriptMeta } from './markers.ts';
import { exportSelector, importSelectors } from './selector-map.ts';

/** Whether our importer turns the DevTools form of this selector back into exactly this selector. */
function selectorRoundTrips(selector: string | readonly string[]): boolean {
  const original = typeof selector === 'string' ? [selector] : [...selector];
  const back = importSelectors(exportSelector(selector).selectors).alternatives;
  return back.length === original.length && back.every((alternative, index) => alternative === original[index]);
}

/** Whether the DevTools step loses something our importer needs to rebuild the action exactly. */
function losesDetail(action: Action): boolean {
  if (action.description !== undefined) return true;
  if ('timeoutMs' in action && action.timeoutMs !== undefined && action.timeoutMs > devtoolsMaxTimeoutMs) return true;
  return 'selector' in action && action.selector !== undefined && !selectorRoundTrips(action.selector);
}

export interface ExportDevtoolsOptions {
  /** Values for `{{variables}}` (default: the script's own defaults); DevTools has no variables. */
  variables?: Readonly<Record<string, string>>;
  /** Mark each business step with a `checkpoint.step` customStep (no-op in DevTools). Default: true. */
  stepMarkers?: boolean;
}

export interface ExportDevtoolsResult {
  recording: DevtoolsRecording;
  problems: InteropProblem[];
}

/** DevTools clicks at an offset from the element's top-left corner; ours clicks the centre. */
const clickOffset = 4;

const placeholderPattern = /\{\{\s*(secret\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

type Step = Record<string, unknown> & { type: DevtoolsStep['type'] };

class Exporter {
  readonly steps: Step[] = [];
  readonly problems: InteropProblem[] = [];
  private readonly variables: Readonly<Record<string, string>>;
  private tab = 'main';
  private frame: number[] = [];
  private scroll = { x: 0, y: 0 };

  constructor(variables: Readonly<Record<string, string>>) {
    this.variables = variables;
  }

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** Fill in variables; secrets and variables set at replay time stay placeholders (reported). */
  render(text: string, path: string): string {
    return text.replace(placeholderPattern, (whole, secret: string | undefined, name: string) => {
      if (secret !== undefined) {
        this.problem(path, `secret ${name} cannot be exported (DevTools has no secrets): left as ${whole}`);
        return whole;
      }
      const value = this.variables[name];
      if (value === undefined) {
        this.problem(path, `variable ${name} has no default value: left as ${whole}`);
        return whole;
      }
      return value;
    });
  }

  /** Add target, frame and timeout of the current context to a step. */
  emit(step: Step, action: Action | undefined, path: string, options: { frame?: boolean; target?: boolean } = {}): Step {
    const out: Step = { ...step };
    if (action !== undefined && !(actionField in out) && losesDetail(action)) out[actionField] = action;
    if (action !== undefined && 'timeoutMs' in action && action.timeoutMs !== undefined) {
      if (action.timeoutMs > devtoolsMaxTimeoutMs) this.problem(`${path}.timeoutMs`, `DevTools timeouts are at most ${devtoolsMaxTimeoutMs} ms: exported as ${devtoolsMaxTimeoutMs}`);
      out['timeout'] = Math.min(action.timeoutMs, devtoolsMaxTimeoutMs);
    }
    if (options.target !== false && this.tab !== 'main') out['target'] = this.tab;
    if (options.frame !== false && this.frame.length > 0) out['frame'] = [...this.frame];
    this.steps.push(out);
    return out;
  }

  /** Emit an approximation that carries the original action for our importer. */
  approximate(step: Step, action: Action, path: string, message: string | undefined): void {
    this.emit({ ...step, [actionField]: action }, action, path);
    if (message !== undefined) this.problem(path, message);
  }

  /**
   * A frame or tab switch DevTools expresses only through the `frame`/`target` of later steps: keep the original
   * in a no-op customStep whose own frame/target is the context after the switch.
   */
  contextMarker(action: Action): void {
    this.steps.push({
      type: 'customStep',
      name: actionStepName,
      parameters: action,
      ...(this.tab === 'main' ? {} : { target: this.tab }),
      ...(this.frame.length === 0 ? {} : { frame: [...this.frame] }),
    });
  }

  custom(action: Action, path: string, message: string): void {
    this.emit({ type: 'customStep', name: actionStepName, parameters: action }, undefined, path);
    this.problem(path, `${message}: exported as a ${actionStepName} customStep, which DevTools skips`);
  }

  selectors(selector: string | readonly string[], path: string): (string | string[])[] | undefined {
    const { selectors, problems } = exportSelector(selector);
    for (const message of problems) this.problem(`${path}.selector`, message);
    return selectors.length === 0 ? undefined : selectors;
  }

  /** A JavaScript expression for the element a CSS-only selector names, or undefined. */
  cssQuery(selector: string | readonly string[] | undefined): string | undefined {
    if (selector === undefined) return 'document.body';
    const first = typeof selector === 'string' ? selector : selector[0];
    if (first === undefined || /^(text|role|testid|xpath|internal:[a-z]+)=|^\/\/|>>/.test(first)) return undefined;
    return `document.querySelector(${JSON.stringify(first)})`;
  }

  textExpression(action: ActionOf<'assertText'> | ActionOf<'waitForText'>, path: string): string | undefined {
    const element = this.cssQuery(action.selector);
    if (element === undefined) return undefined;
    const text = JSON.stringify(this.render(action.text, `${path}.text`));
    const contains = `((${element})?.innerText ?? '').includes(${text})`;
    return action.type === 'assertText' && action.absent === true ? `!${contains}` : contains;
  }

  matchExpression(subject: string, action: { equals?: string | undefined; contains?: string | undefined; matches?: string | undefined }, path: string): string {
    if (action.equals !== undefined) return `${subject} === ${JSON.stringify(this.render(action.equals, `${path}.equals`))}`;
    if (action.contains !== undefined) return `${subject}.includes(${JSON.stringify(this.render(action.contains, `${path}.contains`))})`;
    return `new RegExp(${JSON.stringify(this.render(action.matches ?? '', `${path}.matches`))}).test(${subject})`;
  }

  /** `type` as one keyDown/keyUp pair per character (what DevTools replays as typing); the first carries the action. */
  typeKeys(action: ActionOf<'type'>, path: string): void {
    const text = this.render(action.text, `${path}.text`);
    if (action.selector !== undefined) this.problem(`${path}.selector`, 'DevTools types into the focused element; the element is not focused first');
    if (action.delayMs !== undefined) this.problem(`${path}.delayMs`, 'DevTools waits about 100 ms after each key, not the given delay');
    if (/[^\x20-\x7e\n]/.test(text)) this.problem(`${path}.text`, 'DevTools can only type characters of the US keyboard layout');
    [...text].forEach((char, index) => {
      const key = char === '\n' ? 'Enter' : char;
      const marker = index === 0 ? action : continuedMarker;
      this.steps.push({ type: 'keyDown', key, [actionField]: marker, ...(this.tab === 'main' ? {} : { target: this.tab }) });
      this.steps.push({ type: 'keyUp', key, [actionField]: continuedMarker, ...(this.tab === 'main' ? {} : { target: this.tab }) });
    });
  }

  /** An assertElement condition as DevTools `waitForElement` (same count, operator, attributes, properties, negation). */
  elementCondition(action: ActionOf<'assertElement'>, selectors: (string | string[])[], path: string): void {
    const common: Step = {
      type: 'waitForElement',
      selectors,
      ...(action.attributes === undefined ? {} : { attributes: action.attributes }),
      ...(action.domProperties === undefined ? {} : { properties: action.domProperties }),
      ...(action.negate === true ? { visible: false } : {}),
    };
    if (action.minCount !== undefined && action.maxCount !== undefined) {
      if (action.negate === true) return this.custom(action, path, 'DevTools cannot negate a count range');
      this.approximate({ ...common, operator: '>=', count: action.minCount }, action, path, 'DevTools checks the two bounds of the range one after the other');
      this.emit({ ...common, operator: '<=', count: action.maxCount, [actionField]: continuedMarker }, undefined, path);
      return;
    }
    const bound = action.count !== undefined ? { operator: '==', count: action.count } : action.maxCount !== undefined ? { operator: '<=', count: action.maxCount } : { operator: '>=', count: action.minCount ?? 1 };
    this.emit({ ...common, ...bound }, action, path);
  }

  action(action: Action, path: string, next: readonly Action[]): void {
    switch (action.type) {
      case 'navigate': {
        const url = this.render(action.url, `${path}.url`);
        if (!/^[a-z][a-z0-9+.-]*:/i.test(url)) this.problem(`${path}.url`, 'DevTools needs an absolute URL');
        if (action.waitUntil !== undefined && action.waitUntil !== 'load') this.problem(`${path}.waitUntil`, `DevTools waits for load, not ${action.waitUntil}`);
        this.frame = [];
        this.scroll = { x: 0, y: 0 };
        this.emit({ type: 'navigate', url, ...(url === action.url ? {} : { [actionField]: action }) }, action, path);
        return;
      }
      case 'click':
      case 'doubleClick': {
        const selectors = this.selectors(action.selector, path);
        if (selectors === undefined) return this.custom(action, path, 'no selector DevTools understands');
        const modifiers = action.type === 'click' ? (action.modifiers ?? []) : [];
        for (const key of modifiers) this.emit({ type: 'keyDown', key }, undefined, path, { frame: false });
        const button = action.type === 'click' ? { left: undefined, right: 'secondary', middle: 'auxiliary' }[action.button ?? 'left'] : undefined;
        this.emit({ type: action.type, selectors, offsetX: clickOffset, offsetY: clickOffset, ...(button === undefined ? {} : { button }) }, action, path);
        for (const key of [...modifiers].reverse()) this.emit({ type: 'keyUp', key }, undefined, path, { frame: false });
        return;
      }
      case 'hover': {
        const selectors = this.selectors(action.selector, path);
        if (selectors === undefined) return this.custom(action, path, 'no selector DevTools understands');
        this.emit({ type: 'hover', selectors }, action, path);
        return;
      }
      case 'setValue': {
        const selectors = this.selectors(action.selector, path);
        if (selectors === undefined) return this.custom(action, path, 'no selector DevTools understands');
        const value = this.render(action.value, `${path}.value`);
        if (value === action.value) this.emit({ type: 'change', selectors, value }, action, path);
        else this.approximate({ type: 'change', selectors, value }, action, path, undefined);
        return;
      }
      case 'clear': {
        const selectors = this.selectors(action.selector, path);
        if (selectors === undefined) return this.custom(action, path, 'no selector DevTools understands');
        this.approximate({ type: 'change', selectors, value: '' }, action, path, undefined);
        return;
      }
      case 'type':
        return this.typeKeys(action, path);
      case 'fill':
      case 'select': {
        const selectors = this.selectors(action.selector, path);
        if (selectors === undefined) return this.custom(action, path, 'no selector DevTools understands');
        if (action.type === 'select' && typeof action.option !== 'string') return this.custom(action, path, 'DevTools cannot choose several options');
        const raw = action.type === 'fill' ? action.value : (action.option as string);
        const value = this.render(raw, `${path}.${action.type === 'fill' ? 'value' : 'option'}`);
        // DevTools `change` imports as setValue (typing); the original fill / select travels with it.
        this.approximate({ type: 'change', selectors, value }, action, path, action.type === 'select' ? 'DevTools sets the <select> value; an option label does not match' : undefined);
        return;
      }
      case 'press': {
        const keys = action.key.endsWith('++') ? [...action.key.slice(0, -2).split('+'), '+'] : action.key.split('+');
        keys.forEach((key, index) => {
          const step: Step = { type: 'keyDown', key };
          if (index === 0 && action.selector !== undefined) this.approximate(step, action, path, 'DevTools presses keys in the focused element; the selector is not focused first');
          else this.emit(step, action, path, { frame: false });
        });
        for (const key of [...keys].reverse()) this.emit({ type: 'keyUp', key }, undefined, path, { frame: false });
        return;
      }
      case 'check':
      case 'uncheck': {
        const selectors = this.selectors(action.selector, path);
        if (selectors === undefined) return this.custom(action, path, 'no selector DevTools understands');
        this.approximate({ type: 'click', selectors, offsetX: clickOffset, offsetY: clickOffset }, action, path, `DevTools clicks, which toggles the box instead of ensuring it is ${action.type === 'check' ? 'checked' : 'unchecked'}`);
        return;
      }
      case 'scroll': {
        if (action.selector !== undefined) {
          const selectors = this.selectors(action.selector, path);
          if (selectors === undefined) return this.custom(action, path, 'no selector DevTools understands');
          if (action.x !== undefined || action.y !== undefined) this.problem(path, 'x/y with a selector are ignored (the element is scrolled into view)');
          this.emit({ type: 'scroll', selectors }, action, path);
          return;
        }
        // DevTools scrolls the window to an absolute position: accumulate our offsets since the last navigation.
        this.scroll = { x: this.scroll.x + (action.x ?? 0), y: this.scroll.y + (action.y ?? 0) };
        this.emit({ type: 'scroll', x: this.scroll.x, y: this.scroll.y }, action, path);
        return;
      }
      case 'waitForElement':
      case 'assertElement': {
        const selectors = this.selectors(action.selector, path);
        if (selectors === undefined) return this.custom(action, path, 'no selector DevTools understands');
        if (action.type === 'assertElement' && [action.minCount, action.maxCount, action.attributes, action.domProperties, action.negate].some((v) => v !== undefined)) {
          return this.elementCondition(action, selectors, path);
        }
        if (action.type === 'assertElement' && action.count !== undefined) {
          const step: Step = { type: 'waitForElement', selectors, operator: '==', count: action.count };
          if (action.state === undefined) this.emit(step, action, path);
          else this.approximate(step, action, path, `DevTools checks the count, not that the elements are ${action.state}`);
          return;
        }
        const state = action.state ?? 'visible';
        const present = state === 'visible' || state === 'attached';
        const step: Step = { type: 'waitForElement', selectors, ...(present ? {} : { visible: false }) };
        if (action.type === 'waitForElement' && (state === 'attached' || state === 'detached')) this.approximate(step, action, path, undefined);
        else this.approximate(step, action, path, `DevTools waits for the element to be ${present ? 'in' : 'out of'} the DOM, not ${state}`);
        return;
      }
      case 'waitForText':
      case 'assertText': {
        const expression = this.textExpression(action, path);
        if (expression === undefined) return this.custom(action, path, 'the selector is not plain CSS, so no DevTools expression can read its text');
        this.approximate({ type: 'waitForExpression', expression }, action, path, undefined);
        return;
      }
      case 'waitForUrl':
      case 'assertUrl':
        this.approximate({ type: 'waitForExpression', expression: this.matchExpression('location.href', action, path) }, action, path, undefined);
        return;
      case 'assertTitle':
        this.approximate({ type: 'waitForExpression', expression: this.matchExpression('document.title', action, path) }, action, path, undefined);
        return;
      case 'waitForTime': {
        if (action.durationMs + 1000 > devtoolsMaxTimeoutMs) return this.custom(action, path, `a pause over ${devtoolsMaxTimeoutMs - 1000} ms exceeds DevTools timeouts`);
        this.steps.push({
          type: 'waitForExpression',
          expression: `new Promise((resolve) => setTimeout(() => resolve(true), ${action.durationMs}))`,
          timeout: action.durationMs + 1000,
          ...(this.tab === 'main' ? {} : { target: this.tab }),
          ...(this.frame.length === 0 ? {} : { frame: [...this.frame] }),
          [actionField]: action,
        });
        return;
      }
      case 'waitForNetworkIdle':
        this.approximate({ type: 'waitForExpression', expression: "document.readyState === 'complete'" }, action, path, 'DevTools cannot wait for network idle: waits for the load event instead');
        return;
      case 'extract':
        return this.custom(action, path, 'DevTools cannot read values into variables');
      case 'upload':
        return this.custom(action, path, 'DevTools cannot set files');
      case 'evaluate': {
        const polling = action.variable === undefined ? parsePollingExpression(action.expression) : undefined;
        if (polling !== undefined) {
          this.steps.push({
            type: 'waitForExpression',
            expression: polling.expression,
            timeout: Math.min(polling.timeoutMs, devtoolsMaxTimeoutMs),
            ...(this.tab === 'main' ? {} : { target: this.tab }),
            ...(this.frame.length === 0 ? {} : { frame: [...this.frame] }),
            ...(polling.timeoutMs > devtoolsMaxTimeoutMs ? { [actionField]: action } : {}),
          });
          return;
        }
        const expression = `Promise.resolve(${this.render(action.expression, `${path}.expression`)}).then(() => true)`;
        this.approximate({ type: 'waitForExpression', expression }, action, path, action.variable === undefined ? undefined : `DevTools evaluates the expression but cannot keep its result in {{${action.variable}}}`);
        return;
      }
      case 'switchFrame': {
        const canonical = typeof action.selector === 'string' ? /^iframe >> nth=(\d+)$/.exec(action.selector) : null;
        if (canonical === null) this.problem(path, 'DevTools names frames by their index among the child frames; this frame is assumed to be the first (index 0)');
        this.frame = [...this.frame, Number(canonical?.[1] ?? 0)];
        if (canonical === null || action.description !== undefined || action.timeoutMs !== undefined) this.contextMarker(action);
        return;
      }
      case 'switchToMainFrame':
        this.frame = [];
        if (action.description !== undefined) this.contextMarker(action);
        return;
      case 'switchTab': {
        this.frame = [];
        const plain = action.description === undefined && action.timeoutMs === undefined;
        if (action.to === 'main') {
          this.tab = 'main';
          if (!plain) this.contextMarker(action);
          return;
        }
        if (action.urlContains !== undefined) {
          this.tab = this.render(action.urlContains, `${path}.urlContains`);
          if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(this.tab)) this.problem(`${path}.urlContains`, 'DevTools finds a tab by its exact URL; this is only part of one');
          if (!plain || this.tab !== action.urlContains) this.contextMarker(action);
          return;
        }
        const url = next.find((a): a is ActionOf<'waitForUrl'> | ActionOf<'assertUrl'> => (a.type === 'waitForUrl' || a.type === 'assertUrl') && a.equals !== undefined);
        if (url?.equals !== undefined) {
          this.tab = this.render(url.equals, `${path}`);
        } else {
          this.tab = 'latest';
          this.problem(path, 'DevTools finds a tab by its exact URL, which is unknown here (add a waitForUrl with `equals` after the switch)');
        }
        this.contextMarker(action);
        return;
      }
      case 'closeTab':
        this.emit({ type: 'close' }, undefined, path, { frame: false });
        this.tab = 'main';
        this.frame = [];
        return;
      case 'setViewport':
        this.emit({ type: 'setViewport', width: action.width, height: action.height, deviceScaleFactor: 1, isMobile: false, hasTouch: false, isLandscape: false }, undefined, path, { frame: false });
        return;
      default: {
        const never: never = action;
        throw new Error(`unexpected action ${JSON.stringify(never)}`);
      }
    }
  }
}

/** Export a script as a DevTools Recorder recording; problems name what DevTools will not replay the same way. */
export function exportDevtoolsRecording(script: Script, options: ExportDevtoolsOptions = {}): ExportDevtoolsResult {
  const exporter = new Exporter({ ...script.variables, ...options.variables });
  const settings = script.settings ?? {};
  for (const key of ['userAgent', 'locale', 'timezoneId', 'extraHttpHeaders', 'httpCredentials', 'ignoreHttpsErrors', 'blockedUrls'] as const) {
    if (settings[key] !== undefined) exporter.problem(`settings.${key}`, 'DevTools recordings have no such setting: kept only in the checkpoint block');
  }
  if (settings.viewport !== undefined) {
    exporter.steps.push({ type: 'setViewport', ...settings.viewport, deviceScaleFactor: 1, isMobile: false, hasTouch: false, isLandscape: false });
  }
  script.steps.forEach((step, i) => {
    if (options.stepMarkers !== false) {
      const { actions: _actions, ...fields } = step;
      exporter.steps.push({ type: 'customStep', name: stepMarkerName, parameters: fields });
    }
    step.actions.forEach((action, j) => exporter.action(action, `steps[${i}].actions[${j}]`, step.actions.slice(j + 1)));
  });
  const meta: ScriptMeta = {
    ...(script.description === undefined ? {} : { description: script.description }),
    ...(script.variables === undefined ? {} : { variables: script.variables }),
    ...(script.settings === undefined ? {} : { settings: script.settings }),
    ...(script.timeoutMs === undefined ? {} : { timeoutMs: script.timeoutMs }),
  };
  const timeout = settings.actionTimeoutMs;
  const recording = {
    title: script.name,
    ...(timeout === undefined ? {} : { timeout: Math.min(timeout, devtoolsMaxTimeoutMs) }),
    steps: exporter.steps as DevtoolsStep[],
    ...(Object.keys(meta).length === 0 ? {} : { [scriptField]: meta }),
  } satisfies DevtoolsRecording;
  return { recording, problems: exporter.problems };
}
