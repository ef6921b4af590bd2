/**
 * The programmatic recorder: a fresh browser context whose every document (pages, popups, iframes) runs the
 * in-page recorder, events arriving through one `exposeBinding` and becoming a script in a {@link ScriptBuilder}.
 *
 *   const recorder = await startRecorder({ browser, url });
 *   // … a human (headed) or Playwright (tests) uses recorder.page …
 *   const script = await recorder.stop();
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, BrowserContextOptions, CDPSession, Frame, Locator, Page } from 'playwright-core';
import type { Script } from '../engine/index.ts';
import { parsePageEvent, type FrameRef, type NavigationInitiator, type RecordedEvent } from './events.ts';
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

/**
 * Who started each top-level navigation of one tab, from the browser's own view (CDP): the renderer asks for
 * the navigations a page causes (`Page.frameRequestedNavigation`: link, form, script, refresh), the browser
 * starts the rest (typed URL, bookmark, back/forward, reload). Not a time window: a URL typed one second after
 * a click is still the person's.
 */
class NavigationWatcher {
  readonly #session: CDPSession;
  #mainFrameId: string | undefined;
  #requestedUrl: string | undefined;
  readonly #byLoader = new Map<string, NavigationInitiator>();
  #current: { url: string; initiator: NavigationInitiator } | undefined;

  private constructor(session: CDPSession) {
    this.#session = session;
  }

  static async attach(context: BrowserContext, page: Page): Promise<NavigationWatcher | undefined> {
    try {
      const session = await context.newCDPSession(page);
      const watcher = new NavigationWatcher(session);
      session.on('Page.frameRequestedNavigation', (event) => {
        if (event.frameId === watcher.#mainFrameId) watcher.#requestedUrl = event.url;
      });
      session.on('Page.frameStartedNavigating', (event) => {
        if (event.frameId !== watcher.#mainFrameId) return;
        const requested = watcher.#requestedUrl !== undefined && withoutHash(watcher.#requestedUrl) === withoutHash(event.url);
        watcher.#requestedUrl = undefined;
        watcher.#byLoader.set(event.loaderId, requested ? 'page' : 'person');
      });
      session.on('Page.frameNavigated', (event) => {
        if (event.frame.parentId !== undefined) return;
        const initiator = watcher.#byLoader.get(event.frame.loaderId) ?? 'person';
        watcher.#byLoader.clear();
        watcher.#current = { url: event.frame.url, initiator };
      });
      await session.send('Page.enable');
      watcher.#mainFrameId = (await session.send('Page.getFrameTree')).frameTree.frame.id;
      return watcher;
    } catch {
      // The page closed while attaching: its documents are classified by the fallback rule.
      return undefined;
    }
  }

  /**
   * Who started the navigation that committed `url`. The round trip first makes sure every CDP event the
   * browser sent before the document announced itself has arrived.
   */
  async initiatorOf(url: string): Promise<NavigationInitiator | undefined> {
    try {
      await this.#session.send('Page.getFrameTree');
    } catch {
      return undefined;
    }
    const current = this.#current;
    return current !== undefined && withoutHash(current.url) === withoutHash(url) ? current.initiator : undefined;
  }
}

function withoutHash(url: string): string {
  const hash = url.indexOf('#');
  return hash < 0 ? url : url.slice(0, hash);
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

  const watchers = new Map<Page, Promise<NavigationWatcher | undefined>>();
  const watch = (page: Page): Promise<NavigationWatcher | undefined> => {
    let watcher = watchers.get(page);
    if (watcher === undefined) {
      watcher = NavigationWatcher.attach(context, page);
      watchers.set(page, watcher);
    }
    return watcher;
  };
  // Events are handled one at a time, in arrival order: classifying a document awaits the browser.
  let queue: Promise<void> = Promise.resolve();

  try {
    context.on('page', (page) => {
      tabOf(page);
      void watch(page);
      page.on('close', () => {
        if (!closed && context.pages().length === 0) resolveStopped();
      });
    });
    await context.exposeBinding(binding, (source, payload: unknown) => {
      const event = parsePageEvent(payload);
      // Not an event (e.g. drain's ping): answer once everything before it is handled.
      if (event === undefined) return queue;
      const handled = queue.then(async () => {
        const frame = frameRef(source.page, source.frame);
        let initiator: NavigationInitiator | undefined;
        if (event.type === 'document' && frame === undefined) initiator = await (await watch(source.page))?.initiatorOf(event.url);
        const recorded: RecordedEvent = { ...event, ...(initiator === undefined ? {} : { initiator }), tab: tabOf(source.page), frame, at: Date.now() };
        builder.add(recorded);
        options.onEvent?.(recorded);
        if (event.type === 'stop') resolveStopped();
      });
      queue = handled.catch(() => undefined);
      // The page's ping (drain) resolves once this event, and every one before it, is in the builder.
      return handled;
    });
    await context.addInitScript({ content: recorderInitScript({ binding, hookEvent, toolbar: options.toolbar ?? true }) });
  } catch (error) {
    await context.close().catch(() => undefined);
    throw error;
  }
  const page = await context.newPage();
  tabOf(page);
  await watch(page);
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
