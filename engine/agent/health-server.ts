import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readiness } from './agent.ts';

export interface HealthServerOptions {
  /** Default 127.0.0.1 (use 0.0.0.0 when probes come from outside the container, e.g. Kubernetes httpGet). */
  host?: string;
  /** Default 9464; 0 picks a free port. */
  port?: number;
  readiness(): Readiness;
  metrics(): string;
  /** Standing risks of the configuration, listed by /healthz (plain-http control plane, browsers without sandbox). */
  warnings?: readonly string[] | undefined;
}

export interface HealthServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const defaultHealthPort = 9464;

/**
 * The checkpoint's only listening socket, local: `/healthz` (the process answers; `warnings` lists standing
 * risks of its configuration), `/readyz` (able to take
 * runs: 200, else 503 with a JSON reason) and `/metrics` (Prometheus text). GET and HEAD only.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://health.invalid').pathname;
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(405, 'application/json', '{"error":"method not allowed"}\n');
      return;
    }
    try {
      switch (path) {
        case '/healthz':
          send(200, 'application/json', `${JSON.stringify({ status: 'alive', ...(options.warnings === undefined || options.warnings.length === 0 ? {} : { warnings: options.warnings }) })}\n`);
          return;
        case '/readyz': {
          const readiness = options.readiness();
          send(readiness.ready ? 200 : 503, 'application/json', `${JSON.stringify(readiness)}\n`);
          return;
        }
        case '/metrics':
          send(200, 'text/plain; version=0.0.4; charset=utf-8', options.metrics());
          return;
        default:
          send(404, 'application/json', '{"error":"not found","paths":["/healthz","/readyz","/metrics"]}\n');
      }
    } catch (error) {
      send(500, 'application/json', `${JSON.stringify({ error: error instanceof Error ? error.message : String(error) })}\n`);
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? defaultHealthPort, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
