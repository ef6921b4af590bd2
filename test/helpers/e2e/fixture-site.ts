import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny monitored application served from the test process, whose behaviour the test flips:
 * `GET /status` says "All systems operational" while `healthy`, "Service degraded" otherwise; `?delayMs=N`
 * holds the response N ms first (while `delays` is on), so a run can be caught in the middle.
 */
export class FixtureSite {
  readonly url: string;
  /** The status page reports the service as healthy. */
  healthy = true;
  /** Honour `?delayMs=`; turned off, every response is immediate. */
  delays = true;
  /** Requests per path. */
  readonly hits = new Map<string, number>();
  /** Responses being held back right now. */
  held = 0;
  readonly #server: Server;
  readonly #releases = new Set<() => void>();

  private constructor(server: Server) {
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(): Promise<FixtureSite> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const site = new FixtureSite(server);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void site.handle(req.url ?? '/', res));
    return site;
  }

  private async handle(target: string, res: ServerResponse): Promise<void> {
    const url = new URL(target, 'http://fixture.invalid');
    this.hits.set(url.pathname, (this.hits.get(url.pathname) ?? 0) + 1);
    if (url.pathname !== '/status') {
      res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    const delayMs = Math.min(60_000, Math.max(0, Number(url.searchParams.get('delayMs') ?? '0') || 0));
    if (this.delays && delayMs > 0) {
      this.held++;
      await new Promise<void>((resolve) => {
        const release = () => {
          clearTimeout(timer);
          this.#releases.delete(release);
          resolve();
        };
        const timer = setTimeout(release, delayMs);
        this.#releases.add(release);
        res.once('close', release);
      });
      this.held--;
      if (res.destroyed) return;
    }
    const text = this.healthy ? 'All systems operational' : 'Service degraded';
    const html = `<!doctype html><html><head><title>Status</title></head><body><h1 id="status">${text}</h1><p>Checked at ${new Date().toISOString()}</p></body></html>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
  }

  /** Requests seen for `path`. */
  count(path: string): number {
    return this.hits.get(path) ?? 0;
  }

  async close(): Promise<void> {
    for (const release of [...this.#releases]) release();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
