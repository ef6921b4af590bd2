/** One line per event; the caller decides where it goes (stderr by default, a collector in tests). */
export type Log = (line: string) => void;

/**
 * Make one log line of text that may come from an agent or an API client (monitor names, `hello.version`, error
 * messages): control characters (newlines above all, which would forge a second line) and the line/paragraph
 * separators become visible escapes, and a backslash is doubled so an escape cannot be faked either.
 */
export function escapeLogLine(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => {
    if (char === '\\') return '\\\\';
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    if (char === '\t') return '\\t';
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Lines on stderr, each prefixed with an ISO timestamp. */
export function stderrLog(now: () => Date = () => new Date()): Log {
  return (line) => void process.stderr.write(`${now().toISOString()} ${line}\n`);
}

/** Wrap a log so every line it is given is escaped: one event is always exactly one line, whatever it quotes. */
export function escapedLog(log: Log): Log {
  return (line) => log(escapeLogLine(line));
}

/**
 * Bounded logging of repeated complaints about one source (a misbehaving agent, a client hitting a rate limit):
 * at most `maxPerWindow` lines per source per window, then silence, then one summary line saying how many were
 * suppressed. Sources are kept for one window only, and at most `maxSources` of them (the oldest go first), so an
 * attacker cycling through sources cannot grow it without bound.
 */
export class LogLimiter {
  readonly #log: Log;
  readonly #nowMs: () => number;
  readonly #maxPerWindow: number;
  readonly #windowMs: number;
  readonly #maxSources: number;
  readonly #sources = new Map<string, { windowStartMs: number; lines: number; suppressed: number }>();

  constructor(options: { log: Log; nowMs: () => number; maxPerWindow?: number; windowMs?: number; maxSources?: number }) {
    this.#log = options.log;
    this.#nowMs = options.nowMs;
    this.#maxPerWindow = options.maxPerWindow ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxSources = options.maxSources ?? 1000;
  }

  /** Log `line` about `source` unless that source has used up its lines for this window. */
  log(source: string, line: string): void {
    const now = this.#nowMs();
    let state = this.#sources.get(source);
    if (state !== undefined && now - state.windowStartMs >= this.#windowMs) {
      if (state.suppressed > 0) this.#log(`${source}: ${state.suppressed} more similar line(s) suppressed in the last ${Math.round((now - state.windowStartMs) / 1000)} s`);
      this.#sources.delete(source);
      state = undefined;
    }
    if (state === undefined) {
      if (this.#sources.size >= this.#maxSources) {
        const oldest = this.#sources.keys().next().value;
        if (oldest !== undefined) this.#flush(oldest);
      }
      state = { windowStartMs: now, lines: 0, suppressed: 0 };
      this.#sources.set(source, state);
    }
    if (state.lines < this.#maxPerWindow) {
      state.lines++;
      this.#log(state.lines === this.#maxPerWindow ? `${line} (further lines from ${source} are suppressed for ${Math.round(this.#windowMs / 1000)} s)` : line);
    } else {
      state.suppressed++;
    }
  }

  /** Write the summaries of windows that have ended (called by the maintenance tick). */
  sweep(): void {
    const now = this.#nowMs();
    for (const [source, state] of this.#sources) if (now - state.windowStartMs >= this.#windowMs) this.#flush(source);
  }

  #flush(source: string): void {
    const state = this.#sources.get(source);
    this.#sources.delete(source);
    if (state !== undefined && state.suppressed > 0) this.#log(`${source}: ${state.suppressed} more similar line(s) suppressed`);
  }
}
