import { request as httpRequest, type Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { controlPlaneAgents, type TransportOptions } from './transport.ts';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST';
  url: URL;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
  /** Socket inactivity deadline. Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Largest response body read (acks and error messages are small). */
const maxResponseBytes = 1024 * 1024;

/**
 * The checkpoint's HTTP(S) client for the control plane: node:http/node:https with keep-alive and the
 * transport's CA, client certificate and proxy (transport.ts).
 */
export class HttpClient {
  readonly #http: HttpAgent;
  readonly #https: HttpsAgent;

  constructor(options: TransportOptions = {}) {
    ({ http: this.#http, https: this.#https } = controlPlaneAgents(options, true));
  }

  request(input: HttpRequest): Promise<HttpResponse> {
    const secure = input.url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    const body = typeof input.body === 'string' ? Buffer.from(input.body) : input.body;
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = send(
        input.url,
        {
          method: input.method,
          agent: secure ? this.#https : this.#http,
          headers: { ...input.headers, ...(body === undefined ? {} : { 'Content-Length': String(body.byteLength) }) },
          timeout: input.timeoutMs ?? 30_000,
          ...(input.signal === undefined ? {} : { signal: input.signal }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.byteLength;
            if (size <= maxResponseBytes) chunks.push(chunk);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer from ${input.url.origin} within ${input.timeoutMs ?? 30_000} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}
