/**
 * The programmatic recorder: a fresh browser context whose every document (pages, popups, iframes) runs the
 * in-page recorder, events arriving through one `exposeBinding` and becoming a script in a {@link ScriptBuilder}.
 *
 *   const recorder = await startRecorder({ browser, url });
 *   // … a human (headed) or Playwright (tests) uses recorder.page …
 *   const script = await recorder.stop();
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, BrowserContextOptions, Frame, Locator, Page } from 'playwright-core';
import type { Script } from '../engine/index.ts';
import { parsePageEvent, type FrameRef, type RecordedEvent } from './events.ts';
import { recorderInitScript } from './in-page/recorder-script.ts';
import { ScriptBuilder } from './script-builder.ts';

export interface StartRecorderOptions {
  browser: Browser;
  /** Where recording starts (http or https). Its origin becomes `variables.baseUrl`. */
  url: string;
  /** Script name; default from the first page title. */
  name?: string;
  /** `$schema` written into the script. */
  schema?: string;
  /** Secret name used for password fills; default derived from the field name (`password` → `PASSWORD`). */
  passwordSecret?: string;
  /** Show the in-page toolbar (New step, Assert text, Assert visible, Stop). Default true. */
  toolbar?: boolean;
  /** Options of the recording context (viewport, locale…). */
  contextOptions?: BrowserContextOptions;
  /** Called for every accepted event (live view, debugging). Must not throw. */
  onEvent?: (event: RecordedEvent) => void;
}

export type AssertionKind = 'text' | 'visible';

export interface Recorder {
  page: Page;
  context: BrowserContext;
  /** Resolves when the author pressed Stop, or closed every tab. */
  readonly stopped: Promise<void>;
  /** The script recorded so far, without stopping. */
  snapshot(): Promise<Script>;
  /** Record an assertion on an element, as the toolbar's Assert text / Assert visible buttons do. */
  addAssertion(locator: Locator, kind: AssertionKind): Promise<void>;
  /** Start a new step, as the toolbar's New step button does. */
  newStep(name?: string): Promise<void>;
  /** Stop recording, close the recording context and return the script. */
  stop(): Promise<Script>;
}

/** Start recording in a fresh context of `browser` and open `url` in its first tab. */
export async function startRecorder(options: StartRecorderOptions): Promise<Recorder> {
  const parsed = new URL(options.url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`expected an http or https URL, got ${options.url}`);
  const token = randomUUID().replace(/-/g, '');
  const binding = `__checkpointRecorder_${token}`;
  const hookEvent = `checkpoint-recorder-${token}`;
  const builder = new ScriptBuilder({
    startUrl: options.url,
    name: options.name,
    schema: options.schema,
    passwordSecret: options.passwordSecret,
  });
  const context = await options.browser.newContext(options.contextOptions ?? {});
  const tabs = new Map<Page, number>();
  let nextTab = 0;
  const tabOf = (page: Page): number => {
    let index = tabs.get(page);
    if (index === undefined) {
      index = nextTab++;
      tabs.set(page, index);
    }
    return index;
  };
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    resolveStopped = resolve;
  });
  let closed = false;

  const frameRef = (page: Page, frame: Frame): FrameRef | undefined => (frame === page.mainFrame() ? undefined : { name: frame.name(), url: frame.url() });

  try {
    context.on('page', (page) => {
      tabOf(page);
      page.on('close', () => {
        if (!closed && context.pages().length === 0) resolveStopped();
      });
    });
    await context.exposeBinding(binding, (source, payload: unknown) => {
      const event = parsePageEvent(payload);
      if (event === undefined) return;
      const recorded: RecordedEvent = { ...event, tab: tabOf(source.page), frame: frameRef(source.page, source.frame), at: Date.now() };
      builder.add(recorded);
      options.onEvent?.(recorded);
      if (event.type === 'stop') resolveStopped();
    });
    await context.addInitScript({ content: recorderInitScript({ binding, hookEvent, toolbar: options.toolbar ?? true }) });
  } catch (error) {
    await context.close().catch(() => undefined);
    throw error;
  }
  const page = await context.newPage();
  tabOf(page);
  await page.goto(options.url, { waitUntil: 'domcontentloaded' });

  /** Wait until every event already sent by every document has been handled (a round trip per frame). */
  async function drain(): Promise<void> {
    await Promise.all(
      context.pages().flatMap((p) =>
        p.frames().map((frame) =>
          frame
            .evaluate((name) => {
              const fn = (window as unknown as Record<string, unknown>)[name];
              return typeof fn === 'function' ? (fn as (p: unknown) => Promise<unknown>)({ type: 'ping' }) : undefined;
            }, binding)
            .catch(() => undefined),
        ),
      ),
    );
  }

  async function dispatchHook(target: Locator | Page, detail: Record<string, unknown>): Promise<void> {
    if ('evaluate' in target && 'mainFrame' in target) {
      await target.evaluate(({ name, d }) => document.dispatchEvent(new CustomEvent(name, { detail: d, composed: true })), { name: hookEvent, d: detail });
    } else {
      await target.evaluate((el, { name, d }) => el.dispatchEvent(new CustomEvent(name, { detail: d, bubbles: true, composed: true })), { name: hookEvent, d: detail });
    }
    await drain();
  }

  return {
    page,
    context,
    stopped,
    async snapshot() {
      await drain();
      return builder.build();
    },
    async addAssertion(locator, kind) {
      await dispatchHook(locator, { action: kind === 'text' ? 'assertText' : 'assertVisible' });
    },
    async newStep(name) {
      const current = context.pages().at(-1) ?? page;
      await dispatchHook(current, { action: 'newStep', ...(name === undefined ? {} : { name }) });
    },
    async stop() {
      if (!closed) {
        await drain();
        closed = true;
        builder.add({ type: 'stop', tab: 0, at: Date.now() });
        resolveStopped();
        await context.close().catch(() => undefined);
      }
      return builder.build();
    },
  };
}
