/**
 * Web Vitals observer, serialized into every top-level document of a transaction's browser context with
 * `context.addInitScript(installVitalsObserver, config)` before the first navigation.
 *
 * This file is code that runs IN THE PAGE: `installVitalsObserver` must stay self-contained (no imports, no
 * references to anything outside its own body; only types may live outside it) because Playwright sends its
 * source text to the browser. It records raw browser entries only; the arithmetic (CLS session windows, TBT,
 * INP) lives in `engine/core/web-vitals.ts`, where it can be unit-tested.
 *
 * What it records, all on the document's own clock (`performance.now()`, ms from `performance.timeOrigin`):
 * - `paint` → first-contentful-paint; `largest-contentful-paint` candidates;
 * - `layout-shift` entries (value, hadRecentInput);
 * - `longtask` entries (start, duration);
 * - `event` (durationThreshold 16 ms, the minimum) and `first-input` entries that belong to an interaction;
 * - soft navigations: `history.pushState` / `replaceState` (wrapped) and `popstate` that change the URL, each
 *   followed by a MutationObserver until the DOM has been quiet for `settleQuietMs` with no `fetch` /
 *   `XMLHttpRequest` started since the URL change still in flight (both wrapped, only counting while a route
 *   renders), capped at `settleCapMs`. Work a page defers with plain timers longer than the quiet time is not
 *   waited for.
 *
 * The reader is a frozen object on a non-enumerable, non-writable global whose name is random per run, so page
 * scripts neither see it in `Object.keys(window)` nor collide with it by accident.
 */

/** What the collector passes to the init script (JSON). */
export interface VitalsObserverConfig {
  /** Name of the global that holds the reader; random per run. */
  key: string;
  /** A soft navigation has settled once the DOM has not changed for this long, ms. */
  settleQuietMs: number;
  /** A soft navigation is followed at most this long, ms. */
  settleCapMs: number;
  /** Most entries of each kind kept per window (the rest are counted in `droppedEntries`). */
  maxEntries: number;
}

export interface RawShift {
  startTime: number;
  value: number;
  hadRecentInput: boolean;
}

export interface RawTask {
  startTime: number;
  duration: number;
}

export interface RawInteraction {
  interactionId: number;
  /** Event type, e.g. `pointerdown`, `click`, `keydown`. */
  name: string;
  startTime: number;
  /** Input to next paint, ms (the browser rounds it to 8 ms). */
  duration: number;
}

export interface RawSoftNavigation {
  url: string;
  /** When the URL changed. */
  startTime: number;
  /** The last DOM change before the DOM went quiet, the cap, or the moment the read cut it off. */
  endTime: number;
  /** True when the DOM went quiet; false when capped, superseded by another route change, or cut off. */
  settled: boolean;
}

/** One window of raw observations: from the document's start or the last reset/read, until this read. */
export interface RawVitalsSnapshot {
  url: string;
  timeOrigin: number;
  /** `PerformanceNavigationTiming.type` of the document (navigate, reload, back_forward, prerender). */
  navigationType: string;
  /** Prerendered documents: when the user (here: the script) activated them; 0 otherwise. */
  activationStart: number;
  windowStart: number;
  windowEnd: number;
  /** True for the first read of this document: its paint metrics belong to the step that reads them. */
  firstRead: boolean;
  /** First contentful paint, only in the first read of a document. */
  fcp?: number;
  /** Largest-contentful-paint candidates (render or load time), in order; only in the first read. */
  lcpCandidates: number[];
  /** When the document was first hidden; absent while it stayed visible. */
  firstHidden?: number;
  layoutShifts: RawShift[];
  longTasks: RawTask[];
  interactions: RawInteraction[];
  /** Interactions the browser counted in the window (`performance.interactionCount`), when it says. */
  interactionCount?: number;
  softNavigations: RawSoftNavigation[];
  /** Which entry types the observer could subscribe to. */
  observed: string[];
  droppedEntries: number;
}

/** The global reader. */
export interface VitalsReader {
  /**
   * Wait (at most `waitMs`) for the first contentful paint of an unread document and for pending soft
   * navigations to settle, flush the observers, return the window's observations and start a new window.
   */
  read(waitMs: number): Promise<RawVitalsSnapshot>;
  /** Discard the observations so far and start a new window now; returns the document time. */
  reset(): number;
}

/**
 * Install the observers in this document. Self-contained: serialized by Playwright into the page.
 * Does nothing in subframes (observers only see their own document) or when already installed.
 */
export function installVitalsObserver(config: VitalsObserverConfig): void {
  if (window !== window.top) return;
  if (Object.prototype.hasOwnProperty.call(window, config.key)) return;

  // Keep our own references: page scripts that run later may replace these globals.
  const perf = performance;
  const now = (): number => perf.now();
  const setTimer = window.setTimeout.bind(window);
  const clearTimer = window.clearTimeout.bind(window);
  const frame = window.requestAnimationFrame.bind(window);
  const Observer = window.PerformanceObserver;
  const Mutations = window.MutationObserver;
  const max = Math.max(1, config.maxEntries);

  let windowStart = 0;
  let firstRead = true;
  let fcp: number | undefined;
  let lcpCandidates: number[] = [];
  let firstHidden = document.visibilityState === 'hidden' ? 0 : Number.POSITIVE_INFINITY;
  let shifts: RawShift[] = [];
  let tasks: RawTask[] = [];
  let interactions: RawInteraction[] = [];
  let softNavigations: RawSoftNavigation[] = [];
  let dropped = 0;
  const interactionCountNow = (): number | undefined => {
    const count = (perf as Performance & { interactionCount?: unknown }).interactionCount;
    return typeof count === 'number' ? count : undefined;
  };
  let interactionCountStart = interactionCountNow();

  function keep<T>(list: T[], item: T): void {
    if (list.length < max) list.push(item);
    else dropped++;
  }

  // --- Performance observers -----------------------------------------------------------------------------
  const observers: { observer: PerformanceObserver; handle: (entry: PerformanceEntry) => void }[] = [];
  const observed: string[] = [];
  function observe(type: string, handle: (entry: PerformanceEntry) => void, extra?: Record<string, unknown>): void {
    try {
      const observer = new Observer((list) => {
        for (const entry of list.getEntries()) handle(entry);
      });
      observer.observe({ type, buffered: true, ...extra });
      observers.push({ observer, handle });
      observed.push(type);
    } catch {
      // Entry type not supported by this browser: the figure is simply absent.
    }
  }
  /** Deliver entries the browser has queued but not yet dispatched to the callbacks. */
  function flush(): void {
    for (const { observer, handle } of observers) {
      for (const entry of observer.takeRecords()) handle(entry);
    }
  }

  observe('paint', (entry) => {
    if (entry.name === 'first-contentful-paint' && fcp === undefined) fcp = entry.startTime;
  });
  observe('largest-contentful-paint', (entry) => {
    // Only the first read of a document reports paint metrics; later candidates are not kept.
    if (firstRead) keep(lcpCandidates, entry.startTime);
  });
  observe('layout-shift', (entry) => {
    const shift = entry as PerformanceEntry & { value?: number; hadRecentInput?: boolean };
    keep(shifts, { startTime: entry.startTime, value: shift.value ?? 0, hadRecentInput: shift.hadRecentInput === true });
  });
  observe('longtask', (entry) => {
    keep(tasks, { startTime: entry.startTime, duration: entry.duration });
  });
  const onEvent = (entry: PerformanceEntry): void => {
    const id = (entry as PerformanceEntry & { interactionId?: number }).interactionId ?? 0;
    if (id > 0) keep(interactions, { interactionId: id, name: entry.name, startTime: entry.startTime, duration: entry.duration });
  };
  observe('event', onEvent, { durationThreshold: 16 });
  observe('first-input', onEvent);

  window.addEventListener(
    'visibilitychange',
    () => {
      if (document.visibilityState === 'hidden') firstHidden = Math.min(firstHidden, now());
    },
    true,
  );

  // --- Soft navigations ----------------------------------------------------------------------------------
  // A route change has settled when the DOM has not changed for `settleQuietMs` and no fetch / XHR started
  // since the URL change is still in flight (a view usually shows a placeholder, then renders its data).
  interface Pending {
    url: string;
    startTime: number;
    lastMutation: number;
    /** Last DOM change or request completion. */
    lastActivity: number;
    requests: number;
    timer: number | undefined;
  }
  let pending: Pending | undefined;
  let lastHref = location.href;
  let mutations: MutationObserver | undefined;

  function stopWatching(): void {
    mutations?.disconnect();
    mutations = undefined;
  }
  function finish(endTime: number, settled: boolean): void {
    if (pending === undefined) return;
    if (pending.timer !== undefined) clearTimer(pending.timer);
    keep(softNavigations, { url: pending.url, startTime: pending.startTime, endTime, settled });
    pending = undefined;
    stopWatching();
  }
  function check(): void {
    if (pending === undefined) return;
    pending.timer = undefined;
    const t = now();
    const capEnd = pending.startTime + config.settleCapMs;
    if (t >= capEnd) {
      finish(capEnd, false);
      return;
    }
    const quietFor = t - Math.max(pending.lastMutation, pending.lastActivity);
    if (pending.requests === 0 && quietFor >= config.settleQuietMs) {
      finish(pending.lastMutation, true);
      return;
    }
    const waitFor = pending.requests > 0 ? config.settleQuietMs : config.settleQuietMs - quietFor;
    pending.timer = setTimer(check, Math.max(1, Math.min(waitFor, capEnd - t)));
  }
  /** Count a request started while a route renders; returns the function that marks it finished. */
  function requestStarted(): (() => void) | undefined {
    const navigation = pending;
    if (navigation === undefined) return undefined;
    navigation.requests++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      navigation.requests--;
      navigation.lastActivity = now();
    };
  }
  /** Same document, new route? A change of the fragment alone is an anchor jump unless it looks like a hash route. */
  function isRouteChange(from: string, to: string): boolean {
    if (from === to) return false;
    const hashAt = (href: string): number => (href.includes('#') ? href.indexOf('#') : href.length);
    if (from.slice(0, hashAt(from)) !== to.slice(0, hashAt(to))) return true;
    const hash = to.slice(hashAt(to));
    return hash.startsWith('#/') || hash.startsWith('#!');
  }
  function onUrlChange(kind: 'push' | 'replace' | 'pop'): void {
    const href = location.href;
    const from = lastHref;
    lastHref = href;
    if (!isRouteChange(from, href)) return;
    const t = now();
    if (pending !== undefined && kind === 'replace') {
      // A router redirect while the route is still rendering: the same soft navigation, new URL.
      pending.url = href;
      return;
    }
    if (pending !== undefined) finish(t, false);
    pending = { url: href, startTime: t, lastMutation: t, lastActivity: t, requests: 0, timer: undefined };
    if (mutations === undefined) {
      mutations = new Mutations(() => {
        if (pending !== undefined) pending.lastMutation = now();
      });
      mutations.observe(document, { childList: true, subtree: true, attributes: true, characterData: true });
    }
    pending.timer = setTimer(check, config.settleQuietMs);
  }
  // Proxies keep name, length and the native toString, so feature checks in page scripts see no difference.
  // Measurement must never break the page: our part of each wrapper swallows its own errors.
  for (const [name, kind] of [
    ['pushState', 'push'],
    ['replaceState', 'replace'],
  ] as const) {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, not called: the proxy passes `this` through
    History.prototype[name] = new Proxy(History.prototype[name], {
      apply(target, thisArg: History, args: Parameters<History['pushState']>) {
        const result = Reflect.apply(target, thisArg, args);
        try {
          onUrlChange(kind);
        } catch {
          // ignore
        }
        return result;
      },
    });
  }
  window.addEventListener('popstate', () => onUrlChange('pop'), true);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, not called: the proxy passes `this` through
  window.fetch = new Proxy(window.fetch, {
    apply(target, thisArg: unknown, args: Parameters<typeof fetch>) {
      const result = Reflect.apply(target, thisArg, args);
      const done = requestStarted();
      if (done === undefined) return result;
      // Hand the page a promise that settles like the original, so an unhandled rejection stays unhandled.
      return result.then(
        (response) => {
          done();
          return response;
        },
        (error: unknown) => {
          done();
          throw error;
        },
      );
    },
  });
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped, not called: the proxy passes `this` through
  XMLHttpRequest.prototype.send = new Proxy(XMLHttpRequest.prototype.send, {
    apply(target, thisArg: XMLHttpRequest, args: Parameters<XMLHttpRequest['send']>) {
      const done = requestStarted();
      if (done !== undefined) thisArg.addEventListener('loadend', done, { once: true });
      try {
        return Reflect.apply(target, thisArg, args);
      } catch (error) {
        done?.();
        throw error;
      }
    },
  });

  // --- The reader ----------------------------------------------------------------------------------------
  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimer(resolve, Math.max(0, ms)));
  }
  /** Two animation frames and a task, so entries of the last rendered frame are queued (bounded: hidden pages get no frames). */
  function nextPaint(limitMs: number): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const end = (): void => {
        if (!done) {
          done = true;
          resolve();
        }
      };
      frame(() => frame(() => setTimer(end, 0)));
      setTimer(end, Math.max(0, limitMs));
    });
  }
  function startWindow(): void {
    windowStart = now();
    shifts = [];
    tasks = [];
    interactions = [];
    softNavigations = [];
    dropped = 0;
    interactionCountStart = interactionCountNow();
    // A route change still rendering when a window starts belongs to the window that is over.
    if (pending !== undefined) {
      if (pending.timer !== undefined) clearTimer(pending.timer);
      pending = undefined;
      stopWatching();
    }
  }

  async function read(waitMs: number): Promise<RawVitalsSnapshot> {
    const deadline = now() + Math.max(0, waitMs);
    flush();
    if (firstRead && document.visibilityState === 'visible') {
      // A step that ends at the load event can end before the first frame is presented.
      while (fcp === undefined && now() < deadline) {
        await sleep(Math.min(20, deadline - now()));
        flush();
      }
    }
    while (pending !== undefined && now() < deadline) {
      await sleep(Math.min(20, deadline - now()));
      if (pending !== undefined) check();
    }
    // A visible page gets its frames (slowly on a busy machine); a hidden one gets none, so wait briefly.
    const visible = document.visibilityState === 'visible';
    const frameLimitMs = (): number => Math.min(visible ? 1000 : 100, Math.max(0, deadline - now()));
    await nextPaint(frameLimitMs());
    flush();
    // Event entries of an interaction are queued only once the frame after it is presented. While the browser
    // counts more interactions than entries arrived, give it a few more frames (interactions under the 16 ms
    // threshold never get an entry, so this is bounded by frames, not by waiting for one).
    const countSoFar = (): number => (interactionCountStart === undefined ? 0 : (interactionCountNow() ?? 0) - interactionCountStart);
    for (let extra = 0; visible && extra < 4 && now() < deadline && countSoFar() > new Set(interactions.map((entry) => entry.interactionId)).size; extra++) {
      await nextPaint(frameLimitMs());
      flush();
    }
    const windowEnd = now();
    if (pending !== undefined) finish(windowEnd, false);
    const navigation = perf.getEntriesByType('navigation')[0] as (PerformanceNavigationTiming & { activationStart?: number }) | undefined;
    const countEnd = interactionCountNow();
    const snapshot: RawVitalsSnapshot = {
      url: location.href,
      timeOrigin: perf.timeOrigin,
      navigationType: navigation?.type ?? 'navigate',
      activationStart: navigation?.activationStart ?? 0,
      windowStart,
      windowEnd,
      firstRead,
      lcpCandidates: firstRead ? lcpCandidates.slice() : [],
      layoutShifts: shifts,
      longTasks: tasks,
      interactions,
      softNavigations,
      observed: observed.slice(),
      droppedEntries: dropped,
    };
    if (firstRead && fcp !== undefined) snapshot.fcp = fcp;
    if (Number.isFinite(firstHidden)) snapshot.firstHidden = firstHidden;
    if (countEnd !== undefined && interactionCountStart !== undefined) snapshot.interactionCount = Math.max(0, countEnd - interactionCountStart);
    firstRead = false;
    lcpCandidates = [];
    startWindow();
    windowStart = windowEnd;
    return snapshot;
  }

  const reader: VitalsReader = Object.freeze({
    read,
    reset(): number {
      flush();
      startWindow();
      return windowStart;
    },
  });
  Object.defineProperty(window, config.key, { value: reader, enumerable: false, configurable: false, writable: false });
}
