import { lookup as dnsLookup } from 'node:dns/promises';
import type { BrowserContext, CDPSession, Page, Request, Response, Route, WebSocketRoute } from 'playwright-core';
import { systemClock, type Clock } from '../core/clock.ts';
import { EngineError } from '../core/errors.ts';
import { egressAbortCode, type EgressPolicy, type EgressVerdict, type RequestKind } from '../core/egress-policy.ts';
import type { BrowserNetwork } from './launch.ts';
import { bypassesProxy } from './proxy-bypass.ts';
import { StepFailures } from '../core/step-failures.ts';

/** One request the policy stopped (or, for `afterConnect`, a response that came from a denied address). */
export interface EgressBlock {
  readonly url: string;
  readonly rule: string;
  /**
   * A page's own document (any tab, popups included): the step fails. Frames and subresources refused before
   * they were sent are only recorded (a run warning).
   */
  readonly navigation: boolean;
  /**
   * The request was sent although the policy denies it, and only its response could be refused: the browser's
   * own DNS answer differed from the one vetted (DNS rebinding, split horizon), or a subresource followed a
   * redirect to a denied address (Playwright lets redirect hops past routes). The step fails.
   */
  readonly afterConnect: boolean;
}

/** Every address of a name (node:dns `lookup` with `all`). */
export type EgressResolve = (host: string) => Promise<readonly { address: string }[]>;

export interface EgressGuardOptions {
  readonly policy: EgressPolicy;
  /** Resolver for names the policy must see the addresses of (tests); default node:dns lookup. */
  readonly resolve?: EgressResolve;
  /** How long a verdict on a host name is reused. Default 30 s: short, so a changed DNS answer is seen soon. */
  readonly verdictTtlMs?: number;
  /** How long a name Node could not resolve stays unresolved here. Default 3 s: a DNS hiccup must not last. */
  readonly unresolvedTtlMs?: number;
  /**
   * The browser's proxy and bypass list (launch or pool `network`). Responses that came through the proxy
   * carry the proxy's address, so only those of bypassed hosts have their address checked.
   */
  readonly network?: BrowserNetwork | undefined;
  readonly clock?: Clock;
}

const systemResolve: EgressResolve = (host) => dnsLookup(host, { all: true, verbatim: true });

/** A name Node could not resolve: not a policy verdict (the name is failed as a DNS error, or left to the proxy). */
const unresolved = { allowed: false, rule: 'the name does not resolve', unresolved: true } as const;
type HostVerdict = EgressVerdict | typeof unresolved;
type VerdictEntry = { verdict: Promise<HostVerdict>; expiresMs: number; settled?: HostVerdict };

/** The guard currently lending its policy to a context's one WebSocket route (see `#routeWebSockets`). */
const webSocketGuards = new WeakMap<BrowserContext, { current: EgressGuard | undefined }>();

/**
 * Playwright neither routes nor even sees the requests of shared workers (checked: a SharedWorker's fetch to a
 * denied address went out), so pages under the guard have none: `SharedWorker` is undefined in every document.
 */
const withoutSharedWorkers = `Object.defineProperty(globalThis, 'SharedWorker', { value: undefined, writable: false, configurable: false });`;

/** For a navigation request: is it a tab's own document (not a frame inside one)? */
function frameIsMain(request: Request): boolean {
  try {
    return request.frame().parentFrame() === null;
  } catch {
    // A popup's first navigation is issued before its frame exists (Playwright throws): a new tab's document.
    return true;
  }
}

/**
 * Enforces an egress policy on every request of one browser context: navigations, subresources, fetch/XHR,
 * popups and dedicated workers through `context.route`; redirects of documents through a CDP Fetch pause of
 * document responses (Playwright lets redirect hops past routes); WebSockets of pages and frames through
 * `routeWebSocket`. Service workers are blocked by the context options and pages get no SharedWorker, whose
 * requests no route sees. What remains open is listed in docs/security.md.
 *
 * Names are resolved here (node:dns) and every address vetted before the browser may send; the browser then
 * resolves again itself, so a name whose answer changes in between (DNS rebinding) could still reach a denied
 * address. That gap is narrowed, not closed: the remote address of every response to a name is checked too
 * (`Response.serverAddr`), and a denied one fails the step. Requests are not proxied: the browser's own DNS,
 * connect and TLS timings stay what the product reports. With a browser proxy, the response address is the
 * proxy's, so it is checked only for hosts in the bypass list: the proxy is where addresses are enforced.
 * A name Node cannot resolve is failed as a DNS error (net::ERR_NAME_NOT_RESOLVED), never let through to the
 * browser's own resolver; through a proxy it is left to the proxy, which resolves names itself.
 *
 * Main-frame navigations that are refused fail the running step with POLICY_BLOCKED (like HttpErrorWatcher);
 * refused subresources are listed in `blocked` and fail with the egress failure text in the waterfall and HAR.
 */
export class EgressGuard extends StepFailures {
  readonly #context: BrowserContext;
  readonly #policy: EgressPolicy;
  readonly #resolve: EgressResolve;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #unresolvedTtlMs: number;
  readonly #network: BrowserNetwork | undefined;
  readonly #verdicts = new Map<string, VerdictEntry>();
  readonly #blocked: EgressBlock[] = [];
  readonly #sessions: CDPSession[] = [];
  readonly #redirectHopsVetted = new WeakSet<Request>();
  #disposed = false;

  private constructor(context: BrowserContext, options: EgressGuardOptions) {
    super();
    this.#context = context;
    this.#policy = options.policy;
    this.#resolve = options.resolve ?? systemResolve;
    this.#ttlMs = options.verdictTtlMs ?? 30_000;
    this.#unresolvedTtlMs = options.unresolvedTtlMs ?? 3_000;
    this.#network = options.network;
    this.#clock = options.clock ?? systemClock;
  }

  /** Install on a context (fresh or reused) for one transaction; `dispose()` before the context is handed on. */
  static async install(context: BrowserContext, options: EgressGuardOptions): Promise<EgressGuard> {
    const guard = new EgressGuard(context, options);
    context.on('response', guard.#onResponse);
    context.on('requestfailed', guard.#onRequestFailed);
    context.on('page', guard.#onPage);
    // Independent browser round trips: at once (installing is on the transaction's critical path).
    await Promise.all([
      context.route('**/*', guard.#onRoute),
      context.addInitScript(withoutSharedWorkers),
      guard.#routeWebSockets(),
      ...context.pages().map((page) => guard.#watchRedirects(page)),
    ]);
    return guard;
  }

  /** What was refused so far, in order. */
  get blocked(): readonly EgressBlock[] {
    return this.#blocked;
  }

  /**
   * Stop enforcing for this transaction. The route and CDP sessions are removed without waiting: the context is
   * closed next, or wiped (which unroutes and detaches everything) before a reusing lease; until then a disposed
   * guard lets everything through unchanged.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#context.off('response', this.#onResponse);
    this.#context.off('requestfailed', this.#onRequestFailed);
    this.#context.off('page', this.#onPage);
    const slot = webSocketGuards.get(this.#context);
    if (slot?.current === this) slot.current = undefined;
    for (const session of this.#sessions) void session.detach().catch(() => undefined);
    void this.#context.unroute('**/*', this.#onRoute).catch(() => undefined);
  }

  #record(block: EgressBlock): void {
    this.#blocked.push(block);
    if (!block.navigation && !block.afterConnect) return;
    const error = new EngineError(
      'POLICY_BLOCKED',
      block.afterConnect ? `${block.url} was answered from an address the egress policy denies: ${block.rule}` : `${block.url} is blocked by the checkpoint's egress policy: ${block.rule}`,
      'script',
    );
    this.report(error);
  }

  /** Whether the browser sends a request for `url` through its proxy (not bypassed). */
  #throughProxy(url: string): boolean {
    const proxy = this.#network?.proxy;
    if (proxy === undefined) return false;
    try {
      return !bypassesProxy(new URL(url), this.#network?.proxyBypass);
    } catch {
      return false;
    }
  }

  /**
   * Verdict on a URL, resolving its host (cached per host for the TTL) when the policy needs its addresses.
   * `unresolved` when Node cannot resolve the name and the request would not go through the proxy.
   */
  async #verdict(url: string, kind: RequestKind): Promise<HostVerdict> {
    const first = this.#policy.checkUrl(url, kind);
    if (!first.allowed || !first.needsResolution || first.host === undefined) return first;
    const verdict = await this.#hostVerdict(first.host);
    // The proxy resolves the names it is asked for (Node here often cannot, on a network behind one).
    if ('unresolved' in verdict && this.#throughProxy(url)) return { allowed: true };
    return verdict;
  }

  #hostVerdict(host: string): Promise<HostVerdict> {
    const now = this.#clock.nowMs();
    const cached = this.#verdicts.get(host);
    if (cached !== undefined && cached.expiresMs > now) return cached.verdict;
    const verdict = this.#resolve(host).then(
      (answers): HostVerdict => {
        if (answers.length === 0) return unresolved;
        for (const { address } of answers) {
          const check = this.#policy.checkAddress(address, host);
          if (!check.allowed) return check;
        }
        return { allowed: true };
      },
      // Failing closed: letting the name through would let the browser's own resolver decide, unvetted.
      (): HostVerdict => unresolved,
    );
    const entry: VerdictEntry = { verdict, expiresMs: now + this.#ttlMs };
    this.#verdicts.set(host, entry);
    void verdict.then((settled) => {
      entry.settled = settled;
      // Soon asked again: a name that failed to resolve may resolve a moment later.
      if ('unresolved' in settled) entry.expiresMs = Math.min(entry.expiresMs, this.#clock.nowMs() + this.#unresolvedTtlMs);
    });
    return verdict;
  }

  /** A verdict on a host known without waiting (cached and settled), if any. */
  #settledVerdict(host: string): HostVerdict | undefined {
    const cached = this.#verdicts.get(host);
    return cached !== undefined && cached.expiresMs > this.#clock.nowMs() ? cached.settled : undefined;
  }

  readonly #onRoute = async (route: Route, request: Request): Promise<void> => {
    if (this.#disposed) {
      await route.fallback();
      return;
    }
    const url = request.url();
    const navigation = request.isNavigationRequest();
    const verdict = await this.#verdict(url, navigation ? 'navigation' : 'subresource');
    if (verdict.allowed) {
      await route.fallback();
      return;
    }
    if ('unresolved' in verdict) {
      // A DNS failure, as the browser would report it (NAVIGATION_FAILED, blame site): not a policy block.
      await route.abort('namenotresolved').catch(() => undefined);
      return;
    }
    this.#record({ url, rule: verdict.rule, navigation: navigation && frameIsMain(request), afterConnect: false });
    await route.abort(egressAbortCode).catch(() => undefined);
  };

  readonly #onPage = (page: Page): void => {
    void this.#watchRedirects(page).catch(() => undefined);
  };

  /**
   * Playwright continues every redirect hop itself, past `context.route`. So each tab's document responses are
   * paused here (CDP Fetch at the response stage: one round trip per document, none per subresource) and a
   * redirect whose Location the policy denies is failed before the browser follows it: for the tab's own
   * document the step fails, for a frame inside it the block is recorded (a run warning), as for a frame's
   * first request. Subresource redirects are not paused (one round trip per subresource would cost every
   * run): the browser follows them, and a response from a denied URL or address then fails the step.
   */
  async #watchRedirects(page: Page): Promise<void> {
    if (this.#disposed || page.isClosed()) return;
    const session = await this.#context.newCDPSession(page);
    this.#sessions.push(session);
    // Asked alongside, not awaited: no round trip added to installing (the tab's main frame id never changes).
    const mainFrameId = session.send('Page.getFrameTree').then(
      (tree) => tree.frameTree.frame.id,
      () => undefined,
    );
    session.on('Fetch.requestPaused', (event) => void this.#onDocumentResponse(session, event, () => mainFrameId));
    await session.send('Fetch.enable', { patterns: [{ urlPattern: '*', resourceType: 'Document', requestStage: 'Response' }] });
  }

  async #onDocumentResponse(
    session: CDPSession,
    event: { requestId: string; frameId: string; request: { url: string }; responseStatusCode?: number; responseHeaders?: { name: string; value: string }[] },
    mainFrame: () => Promise<string | undefined>,
  ): Promise<void> {
    const status = this.#disposed ? 0 : (event.responseStatusCode ?? 0);
    const location = status >= 300 && status < 400 ? event.responseHeaders?.find((header) => header.name.toLowerCase() === 'location')?.value : undefined;
    let target: string | undefined;
    try {
      target = location === undefined ? undefined : new URL(location, event.request.url).href;
    } catch {
      target = undefined;
    }
    const verdict = target === undefined ? undefined : await this.#verdict(target, 'navigation');
    if (target !== undefined && verdict !== undefined && !verdict.allowed) {
      if ('unresolved' in verdict) {
        await session.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'NameNotResolved' }).catch(() => undefined);
        return;
      }
      // Unknown main frame (the tab closing): counted as the tab's own document, the stricter choice.
      const main = await mainFrame();
      this.#record({ url: target, rule: `${verdict.rule} (redirected from ${event.request.url})`, navigation: main === undefined || main === event.frameId, afterConnect: false });
      await session.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'AccessDenied' }).catch(() => undefined);
      return;
    }
    await session.send('Fetch.continueRequest', { requestId: event.requestId }).catch(() => undefined);
  }

  /**
   * A redirect hop of a subresource, which Playwright lets past routes: it went out unvetted, so it is vetted
   * now (a name's verdict usually cached) without holding the browser up, and a denied one fails the step.
   */
  #vetRedirectHop(request: Request): void {
    if (this.#disposed || this.#redirectHopsVetted.has(request)) return;
    this.#redirectHopsVetted.add(request);
    const url = request.url();
    void this.#verdict(url, 'subresource').then((verdict) => {
      if (verdict.allowed || 'unresolved' in verdict || this.#disposed) return;
      this.#record({ url, rule: `${verdict.rule} (reached by a redirect)`, navigation: true, afterConnect: true });
    });
  }

  // Answers the browser refused to hand to the page (opaque response blocking of an image that got JSON) end
  // here, not in `response`: the request went out all the same.
  readonly #onRequestFailed = (request: Request): void => {
    if (request.redirectedFrom() !== null) this.#vetRedirectHop(request);
  };

  readonly #onResponse = (response: Response): void => {
    if (this.#disposed) return;
    const request = response.request();
    const url = response.url();
    const first = this.#policy.checkUrl(url, 'subresource');
    // Every request was vetted before sending except redirect hops of subresources: a response from a denied URL
    // is one of those, and it went out.
    if (!first.allowed || request.redirectedFrom() !== null) this.#vetRedirectHop(request);
    // Literal addresses and hosts decided by name were vetted before sending; only resolved names can differ.
    // Through the proxy the address is the proxy's: the proxy is where addresses are enforced.
    if (!first.allowed || !first.needsResolution || first.host === undefined || this.#throughProxy(url)) return;
    const host = first.host;
    void response.serverAddr().then(
      (server) => {
        if (server === null || this.#disposed) return;
        const check = this.#policy.checkAddress(server.ipAddress, host);
        if (check.allowed) return;
        this.#verdicts.set(host, { verdict: Promise.resolve(check), expiresMs: this.#clock.nowMs() + this.#ttlMs, settled: check });
        this.#record({ url, rule: check.rule, navigation: true, afterConnect: true });
      },
      () => undefined,
    );
  };

  /**
   * One WebSocket route per context, installed on first use and kept: `unrouteAll` (the pool's wipe) does not
   * remove WebSocket routes, and calling `routeWebSocket` through a reusable context's wrapper would mark it
   * unusable. It asks whichever guard is current and lets every socket the policy allows connect natively.
   */
  async #routeWebSockets(): Promise<void> {
    let slot = webSocketGuards.get(this.#context);
    if (slot !== undefined) {
      slot.current = this;
      return;
    }
    slot = { current: this };
    webSocketGuards.set(this.#context, slot);
    const current = slot;
    // Synchronous: route the sockets that are denied, or whose host must be resolved first.
    const matches = (url: URL): boolean => {
      const guard = current.current;
      if (guard === undefined) return false;
      const first = guard.#policy.checkUrl(url.href, 'websocket');
      if (!first.allowed || !first.needsResolution || first.host === undefined) return !first.allowed;
      return guard.#settledVerdict(first.host)?.allowed !== true;
    };
    const handler = async (ws: WebSocketRoute): Promise<void> => {
      const guard = current.current;
      const url = ws.url();
      const verdict = guard === undefined ? ({ allowed: true } as const) : await guard.#verdict(url, 'websocket');
      if (verdict.allowed) {
        // Only the first socket to a name not vetted yet takes this path (through Playwright); the rest connect natively.
        ws.connectToServer();
        return;
      }
      if ('unresolved' in verdict) {
        // A connection that failed, as with the browser's own DNS error: not a policy block.
        await ws.close({ code: 1011, reason: 'name not resolved' });
        return;
      }
      if (guard !== undefined) guard.#record({ url, rule: verdict.rule, navigation: false, afterConnect: false });
      await ws.close({ code: 1008, reason: 'blocked by egress policy' });
    };
    const prototype = Object.getPrototypeOf(this.#context) as BrowserContext;
    await prototype.routeWebSocket.bind(this.#context)(matches, handler);
  }
}
