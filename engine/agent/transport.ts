import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';

/** How the agent reaches its control plane on an enterprise network (docs/security.md). */
export interface TransportOptions {
  /** CA certificates trusted for the control plane (the system's plus the operator's, PEM). */
  ca?: string | Buffer | (string | Buffer)[] | undefined;
  /** Client certificate and key (PEM) for a control plane that asks for one (mutual TLS). */
  clientCert?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** HTTP(S) proxy: https:// and wss:// go through a CONNECT tunnel, plain http:// is forwarded. */
  proxy?: URL | undefined;
}

/**
 * The node:http/node:https agents of every control-plane exchange (uploads and the WebSocket), so the CA,
 * the client certificate and the proxy apply to both. The proxy uses Node's own support (`proxyEnv`, Node
 * 24.5+), which tunnels https/wss with CONNECT and sends proxy credentials from the URL.
 */
export function controlPlaneAgents(options: TransportOptions, keepAlive: boolean): { http: HttpAgent; https: HttpsAgent } {
  const proxy = options.proxy === undefined ? {} : { proxyEnv: { HTTP_PROXY: options.proxy.href, HTTPS_PROXY: options.proxy.href } };
  const common = { keepAlive, ...(keepAlive ? { maxSockets: 4 } : {}), ...proxy };
  return {
    http: new HttpAgent(common),
    https: new HttpsAgent({
      ...common,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.clientCert === undefined ? {} : { cert: options.clientCert.cert, key: options.clientCert.key }),
    }),
  };
}

/** Whether `host` (a URL hostname) is this machine: localhost names, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) === 6) return name === '::1' || /^::ffff:127\./.test(name) || /^::ffff:7f[0-9a-f]{2}:/.test(name);
  return false;
}

/**
 * A warning when the control plane is reached in clear text over the network: the token, the results and the
 * scripts (with their URLs) travel readable by anyone on the path. Undefined for https/wss or loopback.
 */
export function plaintextWarning(controlPlane: URL): string | undefined {
  if (controlPlane.protocol !== 'http:' && controlPlane.protocol !== 'ws:') return undefined;
  if (isLoopbackHost(controlPlane.hostname)) return undefined;
  return `the control plane ${controlPlane.origin} is plain ${controlPlane.protocol.slice(0, -1)}: the checkpoint token, the scripts and every result cross the network unencrypted; use https://`;
}

/** A proxy URL for logs: its credentials replaced. */
export function redactedProxy(proxy: URL): string {
  if (proxy.username === '' && proxy.password === '') return proxy.origin;
  return `${proxy.protocol}//***@${proxy.host}`;
}
