// Chrome DevTools Recorder JSON → our transaction script. Every construct our format cannot express is a
// problem at its JSON path (`steps[3].deviceScaleFactor: …`); nothing is dropped silently.
import { type Action, type ActionOf, type Script, scriptSchema, type Settings, type Step } from '../../engine/index.ts';
import {
  devtoolsDefaultTimeoutMs,
  devtoolsEnvelopeSchema,
  devtoolsStepSchema,
  devtoolsStepTypes,
  type DevtoolsAssertedEvent,
  type DevtoolsSelector,
  type DevtoolsStep,
  type DevtoolsStepOf,
} from './devtools-schema.ts';
import {
  actionField,
  actionStepName,
  continuedMarker,
  parseAction,
  pollingExpression,
  scriptField,
  scriptMetaSchema,
  stepMarkerName,
  stepMarkerParameters,
  type InteropProblem,
  type StepMarkerParameters,
} from './markers.ts';
import { importSelectors } from './selector-map.ts';

export type { InteropProblem } from './markers.ts';

export interface ImportDevtoolsOptions {
  /**
   * Origin the recording was made against (e.g. `http://127.0.0.1:8080`): URLs starting with it become
   * `{{baseUrl}}…` and it becomes the default of the `baseUrl` variable, so the script can target another site.
   */
  baseUrl?: string;
  /**
   * Name of the secret that replaces a value typed into a password field (default `PASSWORD`). A DevTools
   * recording stores passwords in clear text; a script never should.
   */
  passwordSecret?: string;
  /** Script name; default: the recording's title. */
  name?: string;
}

export interface ImportDevtoolsResult {
  script: Script;
  problems: InteropProblem[];
}

/** The input is not a DevTools recording, or nothing in it could be imported. */
export class DevtoolsImportError extends Error {
  readonly problems: InteropProblem[];
  constructor(message: string, problems: InteropProblem[]) {
    super(message);
    this.name = 'DevtoolsImportError';
    this.problems = problems;
  }
}

const modifierKeys = new Set(['Alt', 'Control', 'Meta', 'Shift']);
type Modifier = 'Alt' | 'Control' | 'Meta' | 'Shift';

const buttons = { primary: undefined, secondary: 'right', auxiliary: 'middle' } as const;

function issuePath(base: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : `${acc}.${String(key)}`), base);
}

function navigationEvent(step: DevtoolsStep): DevtoolsAssertedEvent | undefined {
  return step.assertedEvents?.find((event) => event.type === 'navigation');
}

function shortUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}` || url;
  } catch {
    return url;
  }
}

/** Text a recording typed that would be read as a `{{placeholder}}`. */
const placeholderLike = /\{\{\s*(secret\.)?[A-Za-z_][A-Za-z0-9_]*\s*\}\}/;
/** A value that is exactly a secret placeholder (written by our exporter): kept as is. */
const secretPlaceholder = /^\{\{\s*secret\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}$/;

class Importer {
  readonly problems: InteropProblem[] = [];
  readonly steps: { fields: StepMarkerParameters; actions: Action[] }[] = [];
  readonly settings: Settings = {};
  readonly options: ImportDevtoolsOptions;
  private readonly baseUrl: string | undefined;
  private tab = 'main';
  private frame: number[] = [];
  private held: { key: Modifier; used: boolean }[] = [];
  /** Indices of keyUp steps already merged into the press of their keyDown. */
  private readonly consumedKeyUps = new Set<number>();
  private scrollPosition = { x: 0, y: 0 };
  private anyAction = false;
  private readonly usedNames = new Map<string, number>();

  constructor(options: ImportDevtoolsOptions) {
    this.options = options;
    this.baseUrl = options.baseUrl?.replace(/\/+$/, '');
  }

  problem(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** Something whose meaning would change (an assertion weakened or dropped): the import fails. */
  error(path: string, message: string): void {
    this.problems.push({ path, message, error: true });
  }

  url(url: string): string {
    if (this.baseUrl !== undefined && this.baseUrl !== '' && (url === this.baseUrl || url.startsWith(`${this.baseUrl}/`) || url.startsWith(`${this.baseUrl}?`))) {
      return `{{baseUrl}}${url.slice(this.baseUrl.length)}`;
    }
    return url;
  }

  startStep(name: string, fields: Partial<StepMarkerParameters> = {}): void {
    let unique = name.slice(0, 200) || 'Step';
    const seen = this.usedNames.get(unique) ?? 0;
    this.usedNames.set(unique, seen + 1);
    if (seen > 0) unique = `${unique.slice(0, 190)} (${seen + 1})`;
    this.steps.push({ fields: { ...fields, name: fields.name ?? unique }, actions: [] });
  }

  push(action: Action): void {
    if (this.steps.length === 0) this.startStep('Start');
    this.steps.at(-1)?.actions.push(action);
    this.anyAction = true;
  }

  /** Switch tab and frame so that the next actions run where the DevTools step did (frame undefined: keep). */
  moveTo(target: string | undefined, frame: readonly number[] | undefined): void {
    const wantedTab = target ?? 'main';
    if (wantedTab !== this.tab) {
      if (this.frame.length > 0) this.push({ type: 'switchToMainFrame' });
      this.frame = [];
      this.push(wantedTab === 'main' ? { type: 'switchTab', to: 'main' } : { type: 'switchTab', urlContains: this.url(wantedTab) });
      this.tab = wantedTab;
    }
    if (frame === undefined) return;
    const same = frame.length === this.frame.length && frame.every((index, i) => this.frame[i] === index);
    if (same) return;
    const keepsPrefix = this.frame.every((index, i) => frame[i] === index);
    if (!keepsPrefix || frame.length < this.frame.length) {
      this.push({ type: 'switchToMainFrame' });
      this.frame = [];
    }
    for (const index of frame.slice(this.frame.length)) {
      this.push({ type: 'switchFrame', selector: `iframe >> nth=${index}` });
    }
    this.frame = [...frame];
  }

  selector(path: string, selectors: readonly DevtoolsSelector[], assertion = false): string | string[] | undefined {
    const { alternatives, problems } = importSelectors(selectors);
    for (const message of problems) this.problem(`${path}.selectors`, message);
    if (alternatives.length === 0) {
      if (assertion) this.error(`${path}.selectors`, 'no selector could be translated, and an assertion cannot be left out');
      else this.problem(`${path}.selectors`, 'no selector could be translated: the step is left out');
      return undefined;
    }
    return alternatives.length === 1 ? alternatives[0] : alternatives;
  }

  run(raw: readonly unknown[]): void {
    const parsed: (DevtoolsStep | undefined)[] = raw.map((value, index) => {
      const result = devtoolsStepSchema.safeParse(value);
      if (result.success) return result.data;
      const type = (value as { type?: unknown } | null)?.type;
      if (typeof type === 'string' && !(devtoolsStepTypes as readonly string[]).includes(type)) {
        this.problem(`steps[${index}].type`, `step type "${type}" is not supported: the step is left out`);
      } else {
        for (const issue of result.error.issues) this.problem(issuePath(`steps[${index}]`, issue.path), `${issue.message}: the step is left out`);
      }
      return undefined;
    });
    const markers = parsed.some((step) => step?.type === 'customStep' && step.name === stepMarkerName);
    // A keyUp's navigation belongs to the press emitted at its keyDown.
    const keyUpOf = new Map<number, number>();
    parsed.forEach((step, index) => {
      if (step?.type !== 'keyDown' || modifierKeys.has(step.key)) return;
      const up = parsed.findIndex((other, j) => j > index && other?.type === 'keyUp' && other.key === step.key && !this.consumedKeyUps.has(j));
      if (up >= 0) {
        keyUpOf.set(index, up);
        this.consumedKeyUps.add(up);
      }
    });
    parsed.forEach((step, index) => {
      if (step === undefined) return;
      const upIndex = keyUpOf.get(index);
      const up = upIndex === undefined ? undefined : parsed[upIndex];
      this.step(step, index, markers, up);
    });
  }

  step(step: DevtoolsStep, index: number, markers: boolean, keyUp: DevtoolsStep | undefined): void {
    const path = `steps[${index}]`;
    // A keyUp merged into its keyDown's press already brought its navigation along.
    if (step.type === 'keyUp' && this.consumedKeyUps.has(index)) return;
    const navigation = navigationEvent(step) ?? (keyUp === undefined ? undefined : navigationEvent(keyUp));
    if (!markers && (step.type === 'navigate' || navigation !== undefined)) {
      const url = step.type === 'navigate' ? step.url : navigation?.url;
      const where = navigation?.title !== undefined && navigation.title !== '' ? navigation.title : url === undefined ? undefined : shortUrl(url);
      this.startStep(where === undefined ? `Step ${this.steps.length + 1}` : `${step.type === 'navigate' ? 'Open' : 'Go to'} ${where}`);
    }
    // A new document starts at the top: DevTools scroll positions are absolute, ours are offsets.
    if (step.type === 'navigate' || navigation !== undefined) this.scrollPosition = { x: 0, y: 0 };
    const timeout = step.timeout === undefined ? {} : { timeoutMs: Math.round(step.timeout) };
    // The 2nd, 3rd… key of one of our actions exported as several steps: the first step brought the action.
    if ((step as Record<string, unknown>)[actionField] === continuedMarker) return;
    const original = parseAction((step as Record<string, unknown>)[actionField]);
    if (original !== undefined) {
      this.moveTo(targetOf(step), frameOf(step));
      this.push(original);
      return;
    }
    switch (step.type) {
      case 'navigate': {
        this.moveTo(step.target, step.frame ?? []);
        this.push({ type: 'navigate', url: this.url(step.url), ...timeout });
        if (navigation?.url !== undefined && navigation.url !== step.url) this.push({ type: 'waitForUrl', equals: this.url(navigation.url), ...timeout });
        return;
      }
      case 'click':
      case 'doubleClick':
        this.click(step, path, timeout);
        break;
      case 'hover': {
        this.moveTo(step.target, step.frame ?? []);
        const selector = this.selector(path, step.selectors);
        if (selector !== undefined) this.push({ type: 'hover', selector, ...timeout });
        break;
      }
      case 'change':
        this.change(step, path, timeout);
        break;
      case 'keyDown':
        this.moveTo(step.target, undefined);
        this.keyDown(step.key, timeout);
        break;
      case 'keyUp':
        this.moveTo(step.target, undefined);
        this.keyUp(step.key, timeout);
        break;
      case 'scroll':
        this.scroll(step, path, timeout);
        break;
      case 'waitForElement':
        this.waitForElement(step, path, timeout);
        break;
      case 'waitForExpression': {
        this.moveTo(step.target, step.frame ?? []);
        const waitMs = step.timeout ?? this.settings.actionTimeoutMs ?? devtoolsDefaultTimeoutMs;
        this.push({
          type: 'evaluate',
          expression: pollingExpression(step.expression, waitMs),
          description: `DevTools waitForExpression: ${step.expression}`.slice(0, 500),
          timeoutMs: waitMs + 1000,
        });
        break;
      }
      case 'setViewport':
        this.setViewport(step, path);
        break;
      case 'emulateNetworkConditions':
        this.problem(path, `emulateNetworkConditions (download ${step.download} B/s, upload ${step.upload} B/s, latency ${step.latency} ms) is not expressible: the step is left out`);
        break;
      case 'close':
        if ((step.target ?? 'main') === 'main') {
          this.problem(path, 'closing the main tab is not expressible (closeTab closes a popup): the step is left out');
          break;
        }
        this.moveTo(step.target, undefined);
        this.push({ type: 'closeTab' });
        this.tab = 'main';
        this.frame = [];
        break;
      case 'customStep':
        this.customStep(step, path);
        return;
      default:
        return assertNever(step);
    }
    if (navigation?.url !== undefined) this.push({ type: 'waitForUrl', equals: this.url(navigation.url), ...timeout });
  }

  click(step: DevtoolsStepOf<'click'> | DevtoolsStepOf<'doubleClick'>, path: string, timeout: { timeoutMs?: number }): void {
    this.moveTo(step.target, step.frame ?? []);
    if (step.button === 'back' || step.button === 'forward') {
      this.problem(`${path}.button`, `the ${step.button} mouse button is not expressible: the step is left out`);
      return;
    }
    if (step.deviceType !== undefined && step.deviceType !== 'mouse') this.problem(`${path}.deviceType`, `${step.deviceType} input is not expressible: replayed as a mouse click`);
    if (step.duration !== undefined) this.problem(`${path}.duration`, `a ${step.duration} ms press is not expressible: replayed as a normal click`);
    const selector = this.selector(path, step.selectors);
    if (selector === undefined) return;
    const modifiers = this.held.map((held) => held.key);
    for (const held of this.held) held.used = true;
    if (step.type === 'doubleClick') {
      if (step.button !== undefined && step.button !== 'primary') this.problem(`${path}.button`, `a ${step.button}-button double click is not expressible: replayed with the primary button`);
      if (modifiers.length > 0) this.problem(path, `modifier keys held during a double click (${modifiers.join('+')}) are not expressible: replayed without them`);
      this.push({ type: 'doubleClick', selector, ...timeout });
      return;
    }
    const button = buttons[step.button ?? 'primary'];
    this.push({
      type: 'click',
      selector,
      ...(button === undefined ? {} : { button }),
      ...(modifiers.length === 0 ? {} : { modifiers }),
      ...timeout,
    });
  }

  change(step: DevtoolsStepOf<'change'>, path: string, timeout: { timeoutMs?: number }): void {
    this.moveTo(step.target, step.frame ?? []);
    const selector = this.selector(path, step.selectors);
    if (selector === undefined) return;
    const raw = step.selectors.flat();
    let value = step.value;
    if (value !== '' && !secretPlaceholder.test(value) && raw.some((s) => /passw(or)?d|\bpwd\b/i.test(s))) {
      const name = this.options.passwordSecret ?? 'PASSWORD';
      value = `{{secret.${name}}}`;
      this.problem(`${path}.value`, `a password was recorded in clear text: replaced by {{secret.${name}}} (set ${name} in the environment or the secrets file)`);
    } else if (placeholderLike.test(value) && !secretPlaceholder.test(value)) {
      this.problem(`${path}.value`, 'the recorded value contains {{…}}, which replay reads as a placeholder');
    }
    // The element's kind decides at replay (select, checkbox, text typed key by key…), as in @puppeteer/replay.
    this.push({ type: 'setValue', selector, value, ...timeout });
  }

  keyDown(key: string, timeout: { timeoutMs?: number }): void {
    if (modifierKeys.has(key)) {
      if (!this.held.some((held) => held.key === key)) this.held.push({ key: key as Modifier, used: false });
      return;
    }
    const chord = [...this.held.map((held) => held.key), key].join('+');
    for (const held of this.held) held.used = true;
    this.push({ type: 'press', key: chord, ...timeout });
  }

  keyUp(key: string, timeout: { timeoutMs?: number }): void {
    const heldIndex = this.held.findIndex((held) => held.key === key);
    if (heldIndex < 0) return; // a lone keyUp: its keyDown produced input (DevTools swallows it) or came before the recording
    const [released] = this.held.splice(heldIndex, 1);
    if (released === undefined || released.used) return;
    // A modifier pressed and released on its own.
    const chord = [...this.held.map((held) => held.key), key].join('+');
    for (const held of this.held) held.used = true;
    this.push({ type: 'press', key: chord, ...timeout });
  }

  scroll(step: DevtoolsStepOf<'scroll'>, path: string, timeout: { timeoutMs?: number }): void {
    this.moveTo(step.target, step.frame ?? []);
    const x = Math.round(step.x ?? 0);
    const y = Math.round(step.y ?? 0);
    if (step.selectors !== undefined && step.selectors.length > 0) {
      const selector = this.selector(path, step.selectors);
      if (selector === undefined) return;
      if (x !== 0 || y !== 0) this.problem(path, `scrolling inside the element to (${x}, ${y}) is not expressible: the element is scrolled into view instead`);
      this.push({ type: 'scroll', selector, ...timeout });
      return;
    }
    // DevTools scrolls the window to an absolute position; ours scrolls by an offset.
    this.push({ type: 'scroll', x: x - this.scrollPosition.x, y: y - this.scrollPosition.y, ...timeout });
    this.scrollPosition = { x, y };
  }

  /**
   * DevTools `waitForElement` keeps its exact meaning as an assertElement condition: the count compared with
   * `operator`, every element's `attributes` and `properties`, and `visible: false` negating the whole.
   */
  waitForElement(step: DevtoolsStepOf<'waitForElement'>, path: string, timeout: { timeoutMs?: number }): void {
    this.moveTo(step.target, step.frame ?? []);
    const selector = this.selector(path, step.selectors, true);
    if (selector === undefined) return;
    const count = step.count ?? 1;
    const operator = step.operator ?? '>=';
    const countField = operator === '==' ? { count } : operator === '>=' ? { minCount: count } : { maxCount: count };
    this.push({
      type: 'assertElement',
      selector,
      ...countField,
      ...(step.attributes === undefined ? {} : { attributes: step.attributes }),
      ...(step.properties === undefined ? {} : { domProperties: step.properties as NonNullable<ActionOf<'assertElement'>['domProperties']> }),
      ...(step.visible === false ? { negate: true } : {}),
      ...timeout,
    });
  }

  setViewport(step: DevtoolsStepOf<'setViewport'>, path: string): void {
    const defaults = { deviceScaleFactor: 1, isMobile: false, hasTouch: false, isLandscape: false } as const;
    for (const key of Object.keys(defaults) as (keyof typeof defaults)[]) {
      if (step[key] !== defaults[key]) this.problem(`${path}.${key}`, `${key} ${String(step[key])} is not expressible: left out (the viewport is ${defaults[key]})`);
    }
    const width = Math.round(step.width);
    const height = Math.round(step.height);
    if (width < 100 || width > 10_000 || height < 100 || height > 10_000) {
      this.problem(path, `a ${width}×${height} viewport is outside 100–10000 pixels: the step is left out`);
      return;
    }
    const sameAsSettings = this.settings.viewport === undefined || (this.settings.viewport.width === width && this.settings.viewport.height === height);
    if (!this.anyAction && sameAsSettings && (step.target ?? 'main') === 'main') {
      this.settings.viewport = { width, height };
      return;
    }
    this.moveTo(step.target, undefined);
    this.push({ type: 'setViewport', width, height });
  }

  customStep(step: DevtoolsStepOf<'customStep'>, path: string): void {
    if (step.name === stepMarkerName) {
      const fields = stepMarkerParameters.safeParse(step.parameters);
      if (fields.success) this.startStep(fields.data.name, fields.data);
      else this.problem(`${path}.parameters`, `not a valid ${stepMarkerName} marker: ${fields.error.issues[0]?.message ?? ''}`);
      return;
    }
    if (step.name === actionStepName) {
      const action = parseAction(step.parameters);
      if (action === undefined) {
        this.problem(`${path}.parameters`, `not a valid ${actionStepName} action: the step is left out`);
        return;
      }
      if (action.type === 'switchFrame' || action.type === 'switchToMainFrame' || action.type === 'switchTab') {
        // Our exporter's record of a switch: the step's own target/frame is the context after it.
        this.push(action);
        this.tab = step.target ?? 'main';
        this.frame = [...(step.frame ?? [])];
        return;
      }
      this.moveTo(step.target, step.frame ?? []);
      this.push(action);
      return;
    }
    this.problem(path, `customStep "${step.name}" is not expressible: the step is left out`);
  }
}

function targetOf(step: DevtoolsStep): string | undefined {
  return 'target' in step && typeof step.target === 'string' ? step.target : undefined;
}

function frameOf(step: DevtoolsStep): number[] | undefined {
  if (step.type === 'keyDown' || step.type === 'keyUp' || step.type === 'setViewport' || step.type === 'emulateNetworkConditions' || step.type === 'close') return undefined;
  return step.frame ?? [];
}

function assertNever(value: never): never {
  throw new Error(`unexpected DevTools step ${JSON.stringify(value)}`);
}

/**
 * Import a DevTools Recorder recording (parsed JSON). Returns a valid script and the problems met; throws
 * {@link DevtoolsImportError} when the input is not a recording or nothing in it can be replayed.
 *
 * Mapping notes: business steps start at each `navigate` and at each step with a navigation in `assertedEvents`
 * (named from the page title, else the URL path), unless the recording carries `checkpoint.step` markers;
 * `change` becomes `setValue` (the element decides at replay: option, checked state or real key presses);
 * `waitForElement` becomes an `assertElement` condition with the same count, operator, attributes, properties and
 * `visible` (an assertion that cannot be carried over exactly is an error, never weakened);
 * `aria/Name` becomes `role=*[name="Name" s]`;
 * `keyDown`/`keyUp` pairs become `press` with held modifiers combined (`Control+A`, or click modifiers);
 * `waitForExpression` becomes an `evaluate` that polls until the expression is truthy; click offsets are ignored.
 */
export function importDevtoolsRecording(json: unknown, options: ImportDevtoolsOptions = {}): ImportDevtoolsResult {
  const envelope = devtoolsEnvelopeSchema.safeParse(json);
  if (!envelope.success) {
    const problems = envelope.error.issues.map((issue) => ({ path: issuePath('', issue.path).replace(/^\./, '') || '(root)', message: issue.message }));
    throw new DevtoolsImportError('not a DevTools Recorder recording (expected an object with `title` and `steps`)', problems);
  }
  const recording = envelope.data;
  // `selectorAttribute` only guided how DevTools computed the selectors; the recorded ones already reflect it.
  const meta = scriptMetaSchema.safeParse(recording[scriptField]);
  // A recording we exported names its baseUrl: turn it back into {{baseUrl}} where DevTools needed it rendered.
  const metaBaseUrl = meta.success ? meta.data.variables?.['baseUrl'] : undefined;
  const importer = new Importer(options.baseUrl === undefined && metaBaseUrl !== undefined ? { ...options, baseUrl: metaBaseUrl } : options);
  if (recording[scriptField] !== undefined && !meta.success) importer.problem(scriptField, 'not a valid checkpoint block: left out');
  if (meta.success && meta.data.settings !== undefined) Object.assign(importer.settings, meta.data.settings);
  if (recording.timeout !== undefined && importer.settings.actionTimeoutMs === undefined) {
    importer.settings.actionTimeoutMs = Math.round(recording.timeout);
    importer.settings.navigationTimeoutMs = Math.round(recording.timeout);
  }
  importer.run(recording.steps);
  const errors = importer.problems.filter((problem) => problem.error === true);
  if (errors.length > 0) {
    throw new DevtoolsImportError(
      `${errors.length === 1 ? 'a step' : `${errors.length} steps`} cannot be imported without changing what ${errors.length === 1 ? 'it checks' : 'they check'}`,
      [...errors, ...importer.problems.filter((problem) => problem.error !== true)],
    );
  }
  const steps: Step[] = importer.steps.filter((step) => step.actions.length > 0).map((step) => ({ ...step.fields, actions: step.actions }));
  if (steps.length === 0) throw new DevtoolsImportError('the recording has no step that can be replayed', importer.problems);

  const variables: Record<string, string> = { ...(meta.success ? meta.data.variables : undefined) };
  if (options.baseUrl !== undefined && variables['baseUrl'] === undefined) variables['baseUrl'] = options.baseUrl.replace(/\/+$/, '');
  const candidate: Script = {
    name: (options.name ?? recording.title).trim().slice(0, 200) || 'Imported DevTools recording',
    ...(meta.success && meta.data.description !== undefined ? { description: meta.data.description } : {}),
    ...(Object.keys(importer.settings).length > 0 ? { settings: importer.settings } : {}),
    ...(Object.keys(variables).length > 0 ? { variables } : {}),
    ...(meta.success && meta.data.timeoutMs !== undefined ? { timeoutMs: meta.data.timeoutMs } : {}),
    steps,
  };
  const checked = scriptSchema.safeParse(candidate);
  if (!checked.success) {
    const problems = checked.error.issues.map((issue) => ({ path: issuePath('script', issue.path), message: issue.message }));
    throw new DevtoolsImportError('the imported script is not valid', [...importer.problems, ...problems]);
  }
  return { script: checked.data, problems: importer.problems };
}
