// Our transaction script → Playwright code: a Playwright Test spec (`test.step` per business step), or a plain
// Node script that needs only playwright-core (runs anywhere the engine runs; exit 0 when every step passed).
import { isAbsolute, resolve } from 'node:path';
import { type Action, anyRoleNamedRoles, defaultTimeouts, parseAnyRole, type Script, splitChain } from '../../engine/index.ts';

export interface ExportPlaywrightOptions {
  /** Test title (default: the script name). */
  title?: string;
  /** Folder of the script file: relative upload paths are resolved against it. */
  baseDir?: string;
}

export interface ExportPlaywrightScriptOptions {
  /** Folder of the script file: relative upload paths are resolved against it. */
  baseDir?: string;
  /** Module specifier the script imports `chromium` from. Default: `playwright-core`. */
  importFrom?: string;
}

type Dialect = 'test' | 'script';

const placeholderPattern = /\{\{\s*(secret\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const reserved = new Set(
  'break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static implements interface package private protected public await async arguments eval undefined NaN Infinity page scope context mainPage browser test expect secret env step poll latestTab tabWithUrl escapeRegExp evaluateSettled applyPattern stringify pick chromium performance setTimeout process console Buffer URL RegExp JSON Math Date Promise Error'.split(' '),
);

function q(text: string): string {
  return JSON.stringify(text);
}

class Generator {
  private readonly lines: string[] = [];
  private depth = 0;
  private inFrame = false;
  readonly idents = new Map<string, string>();
  readonly dialect: Dialect;
  readonly script: Script;
  readonly baseDir: string | undefined;
  /** Timeout of the action being generated, for `pick`. */
  private pickTimeout: number = defaultTimeouts.actionTimeoutMs;

  constructor(script: Script, dialect: Dialect, baseDir?: string) {
    this.script = script;
    this.baseDir = baseDir;
    this.dialect = dialect;
    for (const name of Object.keys(script.variables ?? {})) this.ident(name);
  }

  ident(name: string): string {
    const existing = this.idents.get(name);
    if (existing !== undefined) return existing;
    const ident = reserved.has(name) ? `var_${name}` : name;
    this.idents.set(name, ident);
    return ident;
  }

  line(text = ''): void {
    this.lines.push(text === '' ? '' : `${'  '.repeat(this.depth)}${text}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }

  /** A JavaScript expression for a string that may contain placeholders. */
  str(text: string): string {
    if (!new RegExp(placeholderPattern.source).test(text)) return q(text);
    let out = '`';
    let last = 0;
    for (const match of text.matchAll(placeholderPattern)) {
      out += text.slice(last, match.index).replace(/[`\\]/g, '\\$&').replace(/\$\{/g, '\\${');
      const name = match[2] ?? '';
      out += match[1] === undefined ? `\${${this.ident(name)}}` : `\${secret(${q(name)})}`;
      last = match.index + match[0].length;
    }
    return `${out}${text.slice(last).replace(/[`\\]/g, '\\$&').replace(/\$\{/g, '\\${')}\``;
  }

  /** Locator for one of our selectors (alternatives become `.or()`), relative to the current frame. */
  locator(selector: string | readonly string[]): string {
    const alternatives = typeof selector === 'string' ? [selector] : [...selector];
    const locators = alternatives.map((alternative) => {
      const parts = splitChain(alternative);
      if (!parts.some((part) => part.startsWith('testid=') || parseAnyRole(part) !== undefined)) {
        const fixed = parts.map((part) => (part.startsWith('//') || part.startsWith('(//') ? `xpath=${part}` : part)).join(' >> ');
        return `scope.locator(${this.str(fixed)})`;
      }
      let expression = 'scope';
      let pending: string[] = [];
      const flush = (): void => {
        if (pending.length > 0) expression += `.locator(${this.str(pending.join(' >> '))})`;
        pending = [];
      };
      for (const part of parts) {
        const anyRole = parseAnyRole(part);
        if (part.startsWith('testid=')) {
          flush();
          expression += `.getByTestId(${this.str(part.slice('testid='.length))})`;
        } else if (anyRole !== undefined) {
          flush();
          expression = `byAccessibleName(${expression}, ${this.str(anyRole.name)}, ${String(anyRole.caseSensitive)})`;
        } else pending.push(part.startsWith('//') ? `xpath=${part}` : part);
      }
      flush();
      return expression;
    });
    // Like replay: the first alternative that matches anything wins, earlier ones preferred.
    return locators.length === 1 ? (locators[0] ?? '') : `(await pick([${locators.join(', ')}], ${this.pickTimeout}))`;
  }

  timeoutOf(action: Action): number {
    const own = 'timeoutMs' in action ? action.timeoutMs : undefined;
    return own ?? this.script.settings?.actionTimeoutMs ?? defaultTimeouts.actionTimeoutMs;
  }

  opts(fields: Record<string, string | undefined>): string {
    const entries = Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined);
    return entries.length === 0 ? '' : `{ ${entries.map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
  }

  /** Check a condition: `expect` in a Playwright Test spec, a polling helper in the plain script. */
  check(description: string, expectCall: string, pollCondition: string, timeoutMs: number): void {
    if (this.dialect === 'test') this.line(`await ${expectCall};`);
    else this.line(`await poll(${q(description)}, async () => ${pollCondition}, ${timeoutMs});`);
  }

  matcher(action: { equals?: string | undefined; contains?: string | undefined; matches?: string | undefined }): { expect: string; test: (subject: string) => string } {
    if (action.equals !== undefined) {
      const value = this.str(action.equals);
      return { expect: value, test: (subject) => `${subject} === ${value}` };
    }
    if (action.contains !== undefined) {
      const value = this.str(action.contains);
      return { expect: `new RegExp(escapeRegExp(${value}))`, test: (subject) => `${subject}.includes(${value})` };
    }
    const value = this.str(action.matches ?? '');
    return { expect: `new RegExp(${value})`, test: (subject) => `new RegExp(${value}).test(${subject})` };
  }

  evaluate(expression: string): string {
    return this.inFrame
      ? `await scope.locator(':root').evaluate((_root, expression) => (0, eval)(expression), ${this.str(expression)})`
      : `await evaluateSettled(page, ${this.str(expression)})`;
  }

  action(action: Action): void {
    const t = this.timeoutOf(action);
    this.pickTimeout = t;
    const timeout = 'timeoutMs' in action && action.timeoutMs !== undefined ? String(action.timeoutMs) : undefined;
    if (action.description !== undefined) this.line(`// ${action.description.replace(/\s+/g, ' ')}`);
    switch (action.type) {
      case 'navigate': {
        const url = /^([a-z][a-z0-9+.-]*:|\{\{)/i.test(action.url) ? this.str(action.url) : `new URL(${this.str(action.url)}, page.url()).href`;
        this.line(`await page.goto(${url}, ${this.opts({ waitUntil: q(action.waitUntil ?? 'load'), timeout })});`);
        this.line('scope = page;');
        this.inFrame = false;
        return;
      }
      case 'click':
        this.line(`await ${this.locator(action.selector)}.first().click(${this.opts({ button: action.button === undefined ? undefined : q(action.button), modifiers: action.modifiers === undefined ? undefined : JSON.stringify(action.modifiers), timeout })});`);
        return;
      case 'doubleClick':
        this.line(`await ${this.locator(action.selector)}.first().dblclick(${this.opts({ timeout })});`);
        return;
      case 'fill':
        this.line(`await ${this.locator(action.selector)}.first().fill(${this.str(action.value)}${timeout === undefined ? '' : `, { timeout: ${timeout} }`});`);
        return;
      case 'type':
        if (action.selector === undefined) this.line(`await page.keyboard.type(${this.str(action.text)}${action.delayMs === undefined ? '' : `, { delay: ${action.delayMs} }`});`);
        else this.line(`await typeAtEnd(${this.locator(action.selector)}.first(), ${this.str(action.text)}, ${action.delayMs ?? 0}, ${t});`);
        return;
      case 'clear':
        this.line(`await ${this.locator(action.selector)}.first().clear(${this.opts({ timeout })});`);
        return;
      case 'setValue':
        this.line(`await setValue(${this.locator(action.selector)}.first(), ${this.str(action.value)}, ${t});`);
        return;
      case 'press':
        if (action.selector === undefined) this.line(`await page.keyboard.press(${q(action.key)});`);
        else this.line(`await ${this.locator(action.selector)}.first().press(${q(action.key)}${timeout === undefined ? '' : `, { timeout: ${timeout} }`});`);
        return;
      case 'select': {
        const option = typeof action.option === 'string' ? this.str(action.option) : `[${action.option.map((o) => this.str(o)).join(', ')}]`;
        this.line(`await ${this.locator(action.selector)}.first().selectOption(${option}${timeout === undefined ? '' : `, { timeout: ${timeout} }`});`);
        return;
      }
      case 'check':
      case 'uncheck':
      case 'hover':
        this.line(`await ${this.locator(action.selector)}.first().${action.type}(${this.opts({ timeout })});`);
        return;
      case 'scroll':
        if (action.selector !== undefined) this.line(`await ${this.locator(action.selector)}.first().scrollIntoViewIfNeeded(${this.opts({ timeout })});`);
        else this.line(`${this.evaluate(`window.scrollBy(${action.x ?? 0}, ${action.y ?? 0})`)};`);
        return;
      case 'upload': {
        const files = action.files.map((file) =>
          typeof file === 'string'
            ? this.baseDir === undefined || isAbsolute(file)
              ? `${this.str(file)} /* relative to the original script's folder */`
              : this.str(resolve(this.baseDir, file))
            : `{ name: ${q(file.name)}, mimeType: ${q(file.mimeType ?? 'text/plain')}, buffer: Buffer.from(${this.str(file.text)}) }`,
        );
        this.line(`await ${this.locator(action.selector)}.first().setInputFiles([${files.join(', ')}]${timeout === undefined ? '' : `, { timeout: ${timeout} }`});`);
        return;
      }
      case 'waitForElement':
        this.line(`await ${this.locator(action.selector)}.first().waitFor(${this.opts({ state: q(action.state ?? 'visible'), timeout })});`);
        return;
      case 'waitForText':
      case 'assertText': {
        const target = action.selector === undefined ? "scope.locator('body')" : this.locator(action.selector);
        const text = this.str(action.text);
        const absent = action.type === 'assertText' && action.absent === true;
        this.check(
          `${absent ? 'no ' : ''}text ${action.text}`,
          `expect(${target}.first())${absent ? '.not' : ''}.toContainText(${text}, { timeout: ${t} })`,
          `${absent ? '!' : ''}(await ${target}.first().innerText()).includes(${text})`,
          t,
        );
        return;
      }
      case 'waitForUrl': {
        const m = this.matcher(action);
        const options = this.opts({ timeout });
        this.line(`await page.waitForURL((url) => ${m.test('url.href')}${options === '' ? '' : `, ${options}`});`);
        return;
      }
      case 'waitForTime':
        this.line(`await page.waitForTimeout(${action.durationMs});`);
        return;
      case 'waitForNetworkIdle':
        this.line(`await page.waitForLoadState('networkidle'${timeout === undefined ? '' : `, { timeout: ${timeout} }`});`);
        return;
      case 'assertElement': {
        if ([action.minCount, action.maxCount, action.attributes, action.domProperties, action.negate].some((v) => v !== undefined)) {
          const alternatives = (typeof action.selector === 'string' ? [action.selector] : action.selector).map((alternative) => this.locator(alternative));
          const { count, minCount, maxCount, attributes, domProperties, negate } = action;
          const condition = JSON.stringify({ count, minCount, maxCount, attributes, domProperties, negate });
          const holds = `await elementCondition([${alternatives.join(', ')}], ${condition})`;
          this.check(`condition on ${String(action.selector)}`, `expect.poll(async () => ${holds}, { timeout: ${t} }).toBe(true)`, holds, t);
          return;
        }
        const target = this.locator(action.selector);
        if (action.count !== undefined) this.check(`${action.count} × ${String(action.selector)}`, `expect(${target}).toHaveCount(${action.count}, { timeout: ${t} })`, `(await ${target}.count()) === ${action.count}`, t);
        if (action.state === 'hidden') this.check(`${String(action.selector)} hidden`, `expect(${target}.first()).toBeHidden({ timeout: ${t} })`, `!(await ${target}.first().isVisible())`, t);
        else if (action.state === 'visible' || action.count === undefined) this.check(`${String(action.selector)} visible`, `expect(${target}.first()).toBeVisible({ timeout: ${t} })`, `await ${target}.first().isVisible()`, t);
        return;
      }
      case 'assertUrl': {
        const m = this.matcher(action);
        this.check('URL', `expect(page).toHaveURL(${m.expect}, { timeout: ${t} })`, m.test('page.url()'), t);
        return;
      }
      case 'assertTitle': {
        const m = this.matcher(action);
        this.check('title', `expect(page).toHaveTitle(${m.expect}, { timeout: ${t} })`, m.test('(await page.title())'), t);
        return;
      }
      case 'extract': {
        const target = action.selector === undefined ? '' : `${this.locator(action.selector)}.first()`;
        let value: string;
        if (action.from === 'url') {
          const part = action.urlPart ?? 'href';
          value = part === 'param' ? `(new URL(page.url()).searchParams.get(${this.str(action.param ?? '')}) ?? '')` : `new URL(page.url()).${part}`;
        } else if (action.from === 'text') value = `(await ${target}.innerText()).trim()`;
        else if (action.from === 'value') value = `await ${target}.inputValue()`;
        else value = `((await ${target}.getAttribute(${this.str(action.attribute ?? '')})) ?? '')`;
        this.line(`${this.ident(action.variable)} = ${action.pattern === undefined ? value : `applyPattern(${value}, ${this.str(action.pattern)})`};`);
        return;
      }
      case 'evaluate':
        if (action.variable === undefined) this.line(`${this.evaluate(action.expression)};`);
        else this.line(`${this.ident(action.variable)} = stringify(${this.evaluate(action.expression)});`);
        return;
      case 'switchFrame': {
        if (action.selector !== undefined) {
          if (typeof action.selector === 'string') this.line(`scope = scope.frameLocator(${this.str(action.selector.startsWith('//') ? `xpath=${action.selector}` : action.selector)});`);
          else this.line(`scope = ${this.locator(action.selector)}.first().contentFrame();`);
        } else if (action.name !== undefined) this.line(`scope = scope.frameLocator(\`iframe[name=\${JSON.stringify(${this.str(action.name)})}]\`);`);
        else this.line(`scope = scope.frameLocator(\`iframe[src*=\${JSON.stringify(${this.str(action.urlContains ?? '')})}]\`);`);
        this.inFrame = true;
        return;
      }
      case 'switchToMainFrame':
        this.line('scope = page;');
        this.inFrame = false;
        return;
      case 'switchTab':
        if (action.to === 'main') this.line('page = mainPage;');
        else if (action.urlContains !== undefined) this.line(`page = await tabWithUrl(context, ${this.str(action.urlContains)}, ${t});`);
        else this.line('page = await latestTab(context, page, mainPage);');
        this.line("await page.waitForLoadState('domcontentloaded');");
        this.line('await page.bringToFront();');
        this.line('scope = page;');
        this.inFrame = false;
        return;
      case 'closeTab':
        this.line('await page.close();');
        this.line('page = mainPage;');
        this.line('scope = page;');
        this.inFrame = false;
        return;
      case 'setViewport':
        this.line(`await page.setViewportSize({ width: ${action.width}, height: ${action.height} });`);
        return;
      default: {
        const never: never = action;
        throw new Error(`unexpected action ${JSON.stringify(never)}`);
      }
    }
  }

  /** Placeholders that name neither a script variable nor one an action sets: read from the environment, required. */
  declarations(): void {
    const defaults = this.script.variables ?? {};
    const set = new Set<string>();
    const used = new Set<string>();
    for (const step of this.script.steps) {
      for (const action of step.actions) {
        if (action.type === 'extract' || (action.type === 'evaluate' && action.variable !== undefined)) set.add(action.variable ?? '');
        for (const match of JSON.stringify(action).matchAll(placeholderPattern)) if (match[1] === undefined) used.add(match[2] ?? '');
      }
    }
    const ts = this.dialect === 'test';
    this.line('// Variables: override any of them with an environment variable of the same name.');
    for (const [name, value] of Object.entries(defaults)) this.line(`const ${this.ident(name)} = process.env[${q(name)}] ?? ${this.str(value)};`);
    for (const name of used) {
      if (name in defaults || set.has(name)) continue;
      this.line(`const ${this.ident(name)} = env(${q(name)});`);
    }
    for (const name of set) {
      if (name in defaults) {
        this.line(`// ${name} is also set by an extract/evaluate action below`);
        continue;
      }
      this.line(`let ${this.ident(name)}${ts ? ': string' : ''} = '';`);
    }
    // `const` defaults that an action overwrites must be `let`.
    for (let i = 0; i < this.lines.length; i++) {
      const match = /^const (\w+) = process\.env/.exec(this.lines[i] ?? '');
      if (match !== null && [...set].some((name) => this.idents.get(name) === match[1])) this.lines[i] = (this.lines[i] ?? '').replace(/^const/, 'let');
    }
  }

  helpers(): void {
    const ts = this.dialect === 'test';
    const a = (type: string): string => (ts ? `: ${type}` : '');
    const helpers = [
      `function env(name${a('string')})${a('string')} {`,
      '  const value = process.env[name];',
      '  if (value === undefined) throw new Error(`environment variable ${name} is not set`);',
      '  return value;',
      '}',
      `/** Secrets come from the environment only; never write them into this file. */`,
      `function secret(name${a('string')})${a('string')} {`,
      '  return env(name);',
      '}',
      `function escapeRegExp(text${a('string')})${a('string')} {`,
      "  return text.replace(/[.*+?^${}()|[\\]\\\\]/g, '\\\\$&');",
      '}',
      `function applyPattern(value${a('string')}, pattern${a('string')})${a('string')} {`,
      '  const match = new RegExp(pattern).exec(value);',
      '  if (match === null) throw new Error(`value ${JSON.stringify(value)} does not match /${pattern}/`);',
      '  return match[1] ?? match[0];',
      '}',
      `function stringify(value${a('unknown')})${a('string')} {`,
      "  if (value === undefined) return '';",
      "  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');",
      '}',
      "/** The first alternative that matches at least one element, polling until one does (replay's selector race). */",
      `async function pick(alternatives${a('Locator[]')}, timeoutMs${a('number')})${a('Promise<Locator>')} {`,
      '  const deadline = Date.now() + timeoutMs;',
      '  for (;;) {',
      '    for (const locator of alternatives) if ((await locator.count()) > 0) return locator;',
      `    if (Date.now() >= deadline) return alternatives[0]${ts ? ' as Locator' : ''};`,
      '    await new Promise((resolve) => setTimeout(resolve, 50));',
      '  }',
      '}',
      `/** The most recently opened tab other than the current and the main one (waits for one to open). */`,
      `async function latestTab(context${a('BrowserContext')}, current${a('Page')}, main${a('Page')})${a('Promise<Page>')} {`,
      '  const open = context.pages().filter((p) => p !== current && p !== main && !p.isClosed());',
      "  return open.at(-1) ?? (await context.waitForEvent('page'));",
      '}',
      `async function tabWithUrl(context${a('BrowserContext')}, needle${a('string')}, timeoutMs${a('number')})${a('Promise<Page>')} {`,
      '  const deadline = Date.now() + timeoutMs;',
      '  for (;;) {',
      '    const found = context.pages().find((p) => p.url().includes(needle));',
      '    if (found !== undefined) return found;',
      '    if (Date.now() >= deadline) throw new Error(`no tab whose URL contains ${needle}`);',
      '    await new Promise((resolve) => setTimeout(resolve, 100));',
      '  }',
      '}',
    ];
    if (!ts) {
      helpers.push(
        '/** Retry a check until it holds or the timeout passes (what replay does for assertions). */',
        'async function poll(description, check, timeoutMs) {',
        '  const deadline = Date.now() + timeoutMs;',
        '  let lastError;',
        '  for (;;) {',
        '    try {',
        '      if (await check()) return;',
        '    } catch (error) {',
        '      lastError = error;',
        '    }',
        '    if (Date.now() >= deadline) throw new Error(`${description}: not true after ${timeoutMs} ms${lastError === undefined ? \'\' : ` (${lastError.message})`}`);',
        '    await new Promise((resolve) => setTimeout(resolve, 100));',
        '  }',
        '}',
        'async function step(name, body) {',
        '  const started = performance.now();',
        '  try {',
        '    await body();',
        '  } catch (error) {',
        '    console.error(`✗ ${name}: ${error instanceof Error ? error.message : String(error)}`);',
        '    throw error;',
        '  }',
        '  console.log(`✓ ${name} (${Math.round(performance.now() - started)} ms)`);',
        '}',
      );
    }
    // Helpers for the newer actions only when used, so scripts without them export as before.
    const actions = this.script.steps.flatMap((step) => step.actions);
    if (JSON.stringify(actions).includes('role=*')) helpers.push(...accessibleNameHelper(a));
    if (actions.some((action) => action.type === 'type' && action.selector !== undefined)) helpers.push(...typeAtEndHelper(a));
    if (actions.some((action) => action.type === 'setValue')) helpers.push(...setValueHelper(a));
    if (actions.some((action) => action.type === 'scroll' || action.type === 'evaluate')) helpers.push(...evaluateSettledHelper(a));
    if (actions.some((action) => action.type === 'assertElement' && [action.minCount, action.maxCount, action.attributes, action.domProperties, action.negate].some((v) => v !== undefined))) {
      helpers.push(...elementConditionHelper(a));
    }
    for (const helper of helpers) this.line(helper);
  }

  contextOptions(): string {
    const s = this.script.settings ?? {};
    const fields: Record<string, string | undefined> = {
      viewport: s.viewport === undefined ? undefined : `{ width: ${s.viewport.width}, height: ${s.viewport.height} }`,
      userAgent: s.userAgent === undefined ? undefined : this.str(s.userAgent),
      locale: s.locale === undefined ? undefined : q(s.locale),
      timezoneId: s.timezoneId === undefined ? undefined : q(s.timezoneId),
      extraHTTPHeaders: s.extraHttpHeaders === undefined ? undefined : `{ ${Object.entries(s.extraHttpHeaders).map(([k, v]) => `${q(k)}: ${this.str(v)}`).join(', ')} }`,
      httpCredentials: s.httpCredentials === undefined ? undefined : `{ username: ${this.str(s.httpCredentials.username)}, password: ${this.str(s.httpCredentials.password)} }`,
      ignoreHTTPSErrors: s.ignoreHttpsErrors === undefined ? undefined : String(s.ignoreHttpsErrors),
    };
    return this.opts(fields);
  }

  contextSetup(): void {
    const s = this.script.settings ?? {};
    this.line(`context.setDefaultTimeout(${s.actionTimeoutMs ?? defaultTimeouts.actionTimeoutMs});`);
    this.line(`context.setDefaultNavigationTimeout(${s.navigationTimeoutMs ?? defaultTimeouts.navigationTimeoutMs});`);
    for (const pattern of s.blockedUrls ?? []) this.line(`await context.route(${q(pattern)}, (route) => route.abort());`);
  }

  steps(): void {
    for (const step of this.script.steps) {
      const notes = Object.keys(step).filter((key) => key !== 'name' && key !== 'actions');
      if (notes.length > 0) this.line(`// not exported: ${notes.map((key) => `${key}=${JSON.stringify((step as Record<string, unknown>)[key])}`).join(', ')}`);
      this.line(`await ${this.dialect === 'test' ? 'test.step' : 'step'}(${q(step.name)}, async () => {`);
      this.depth++;
      for (const action of step.actions) this.action(action);
      this.depth--;
      this.line('});');
    }
  }
}

type Annotate = (type: string) => string;

/** `role=*[name=…]`: the accessible name over every role, as replay computes it (see engine/core/selector-syntax.ts). */
function accessibleNameHelper(a: Annotate): string[] {
  return [
    '/** Elements with this accessible name, whatever their role (`role=*[name="…"]` in the transaction script). */',
    `function byAccessibleName(scope${a('Page | FrameLocator | Locator')}, name${a('string')}, exact${a('boolean')})${a('Locator')} {`,
    `  const roles = ${JSON.stringify(anyRoleNamedRoles)}${a('const') === '' ? '' : ' as const'};`,
    '  return roles',
    '    .map((role) => scope.getByRole(role, { name, exact }))',
    '    .reduce((all, next) => all.or(next))',
    '    .or(scope.getByLabel(name, { exact }))',
    '    .or(scope.getByAltText(name, { exact }))',
    '    .or(scope.getByPlaceholder(name, { exact }));',
    '}',
  ];
}

/**
 * `page.evaluate` that survives a navigation still under way (a submit the previous action started): replay runs
 * page code in the document that is there, so the export waits for it too instead of failing on a torn-down one.
 */
function evaluateSettledHelper(a: Annotate): string[] {
  return [
    '/** Evaluate in the page; when a navigation destroyed the document, again in the new one once it is loaded. */',
    `async function evaluateSettled(page${a('Page')}, expression${a('string')})${a('Promise<unknown>')} {`,
    '  for (let attempt = 1; ; attempt++) {',
    '    try {',
    '      return await page.evaluate(expression);',
    '    } catch (error) {',
    "      if (attempt >= 3 || !String(error).includes('Execution context was destroyed')) throw error;",
    "      await page.waitForLoadState('domcontentloaded');",
    '    }',
    '  }',
    '}',
  ];
}

function typeAtEndHelper(a: Annotate): string[] {
  return [
    '/** Real key presses at the end of the element\'s text (replay\'s `type`). */',
    `async function typeAtEnd(locator${a('Locator')}, text${a('string')}, delay${a('number')}, timeout${a('number')}) {`,
    '  await locator.focus({ timeout });',
    '  await locator.evaluate((element) => {',
    '    if (element instanceof HTMLInputElement || element instanceof HTMLTextAreaElement) {',
    '      try {',
    '        element.setSelectionRange(element.value.length, element.value.length);',
    '      } catch {',
    '        // email / number inputs have no selection API',
    '      }',
    '    }',
    '  });',
    '  await locator.page().keyboard.type(text, { delay });',
    '}',
  ];
}

function setValueHelper(a: Annotate): string[] {
  return [
    '/** Replay\'s `setValue` (DevTools `change`): the element decides — option, checked state, or real key presses. */',
    `async function setValue(locator${a('Locator')}, value${a('string')}, timeout${a('number')}) {`,
    '  const kind = await locator.evaluate((element) => {',
    "    if (element instanceof HTMLSelectElement) return 'select';",
    "    if (element instanceof HTMLInputElement && (element.type === 'checkbox' || element.type === 'radio')) return 'check';",
    "    const typeable = element instanceof HTMLTextAreaElement || (element instanceof HTMLElement && element.isContentEditable) || (element instanceof HTMLInputElement && ['text', 'search', 'email', 'url', 'tel', 'password', 'number'].includes(element.type));",
    "    return typeable ? 'text' : 'other';",
    '  }, undefined, { timeout });',
    "  if (kind === 'select') await locator.selectOption(value, { timeout });",
    "  else if (kind === 'check') await locator.setChecked(!['false', 'off', ''].includes(value.trim().toLowerCase()), { timeout });",
    "  else if (kind === 'text') {",
    '    await locator.clear({ timeout });',
    '    await locator.pressSequentially(value, { timeout });',
    '  } else await locator.fill(value, { timeout });',
    '}',
  ];
}

function elementConditionHelper(a: Annotate): string[] {
  const condition = '{ count?: number; minCount?: number; maxCount?: number; attributes?: Record<string, string>; domProperties?: Record<string, unknown>; negate?: boolean }';
  return [
    '/** Replay\'s assertElement condition (DevTools waitForElement): count, attributes and DOM properties of the first alternative matching any. */',
    `async function elementCondition(alternatives${a('Locator[]')}, condition${a(condition)})${a('Promise<boolean>')} {`,
    '  let locator = alternatives[0];',
    '  let n = 0;',
    '  for (const candidate of alternatives) {',
    '    n = await candidate.count();',
    '    locator = candidate;',
    '    if (n > 0) break;',
    '  }',
    '  let holds = condition.count !== undefined ? n === condition.count : n >= (condition.minCount ?? (condition.maxCount === undefined ? 1 : 0)) && (condition.maxCount === undefined || n <= condition.maxCount);',
    '  if (holds && n > 0 && locator !== undefined && (condition.attributes !== undefined || condition.domProperties !== undefined)) {',
    '    holds = await locator.evaluateAll((elements, c) => {',
    `      const deep = (want${a('unknown')}, have${a('unknown')})${a('boolean')} => want === have || (typeof want === 'object' && want !== null && typeof have === 'object' && have !== null && Object.entries(want).every(([k, v]) => deep(v, (have as Record<string, unknown>)[k])));`.replace(' as Record<string, unknown>', a('x') === '' ? '' : ' as Record<string, unknown>'),
    '      return elements.every((element) => Object.entries(c.attributes ?? {}).every(([name, value]) => element.getAttribute(name) === value) && (c.domProperties === undefined || deep(c.domProperties, element)));',
    '    }, condition);',
    '  }',
    '  return holds !== (condition.negate === true);',
    '}',
  ];
}

function header(script: Script): string[] {
  const lines = [`// Exported by \`checkpoint export --format playwright\` from the transaction "${script.name.replace(/\n/g, ' ')}".`];
  if (script.description !== undefined) lines.push(`// ${script.description.replace(/\s+/g, ' ')}`);
  lines.push('// Not carried over: screenshots, filmstrips, HAR, Lighthouse and per-step timing reports.');
  return lines;
}

/** A Playwright Test spec: one `test.step` per business step, secrets and variables from the environment. */
export function exportPlaywrightTest(script: Script, options: ExportPlaywrightOptions = {}): string {
  const g = new Generator(script, 'test', options.baseDir);
  for (const line of header(script)) g.line(line);
  g.line("import { test, expect, type BrowserContext, type FrameLocator, type Locator, type Page } from '@playwright/test';");
  g.line();
  g.declarations();
  g.line();
  g.helpers();
  g.line();
  const contextOptions = g.contextOptions();
  if (contextOptions !== '') g.line(`test.use(${contextOptions});`);
  g.line();
  g.line(`test(${q(options.title ?? script.name)}, async ({ page: mainPage, context }) => {`);
  g.line(`  test.setTimeout(${script.timeoutMs ?? defaultTimeouts.scriptTimeoutMs});`);
  g.line('  let page: Page = mainPage;');
  g.line('  let scope: Page | FrameLocator = page;');
  g.line('  // Keep the linter quiet about helpers a script does not use.');
  g.line('  void [latestTab, tabWithUrl, pick, escapeRegExp, applyPattern, stringify, expect];');
  const body = new Generator(script, 'test', options.baseDir);
  for (const [name, ident] of g.idents) body.idents.set(name, ident);
  body.line();
  body.contextSetup();
  body.steps();
  for (const line of body.text().trimEnd().split('\n')) g.line(line === '' ? '' : `  ${line}`);
  g.line('});');
  return g.text();
}

/**
 * A plain Node ESM script using only playwright-core: launches Chromium (`CHROME_PATH`, or Playwright's own
 * browser), runs every step, prints one line per step and exits non-zero on the first failure.
 */
export function exportPlaywrightScript(script: Script, options: ExportPlaywrightScriptOptions = {}): string {
  const g = new Generator(script, 'script', options.baseDir);
  for (const line of header(script)) g.line(line);
  g.line('// Run: CHROME_PATH=/path/to/chromium node this-file.mjs');
  g.line(`import { chromium } from ${q(options.importFrom ?? 'playwright-core')};`);
  g.line();
  g.declarations();
  g.line();
  g.helpers();
  g.line();
  g.line('const browser = await chromium.launch({ executablePath: process.env.CHROME_PATH, headless: true });');
  g.line('try {');
  g.line(`  const context = await browser.newContext(${g.contextOptions()});`);
  g.line('  const mainPage = await context.newPage();');
  g.line('  let page = mainPage;');
  g.line('  let scope = page;');
  const body = new Generator(script, 'script', options.baseDir);
  for (const [name, ident] of g.idents) body.idents.set(name, ident);
  body.contextSetup();
  body.steps();
  for (const line of body.text().trimEnd().split('\n')) g.line(line === '' ? '' : `  ${line}`);
  g.line('} finally {');
  g.line('  await browser.close();');
  g.line('}');
  return g.text();
}
