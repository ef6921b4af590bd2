#!/usr/bin/env node
// Stand-alone entry of the agent (`node test/helpers/agent-main.ts --control-plane URL --token T`),
// used by tests that need a real process to SIGTERM with test-only knobs (reconnect backoff). Users run `checkpoint agent`.
import { parseArgs } from 'node:util';
import { runAgentCommand, type AgentCommandOptions } from '../../engine/agent/agent-command.ts';

function int(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) {
    process.stderr.write(`error: --${name}: expected a whole number, got ${JSON.stringify(text)}\n`);
    process.exit(2);
  }
  return value;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      'control-plane': { type: 'string' },
      token: { type: 'string' },
      'instance-id': { type: 'string' },
      'data-dir': { type: 'string' },
      'health-port': { type: 'string' },
      'health-host': { type: 'string' },
      concurrency: { type: 'string' },
      'ca-file': { type: 'string' },
      'privacy-lock': { type: 'boolean' },
      'secrets-file': { type: 'string' },
      'secret-env': { type: 'string' },
      'client-cert': { type: 'string' },
      'client-key': { type: 'string' },
      'control-plane-proxy': { type: 'string' },
      'browser-proxy': { type: 'string' },
      'browser-proxy-bypass': { type: 'string' },
      'allow-no-sandbox': { type: 'boolean' },
      'drain-grace-ms': { type: 'string' },
      'flush-timeout-ms': { type: 'string' },
      'outbox-cap-bytes': { type: 'string' },
      'backoff-base-ms': { type: 'string' },
      'backoff-cap-ms': { type: 'string' },
    },
    strict: true,
  });
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
const v = parsed.values;
const baseMs = int('backoff-base-ms', v['backoff-base-ms']);
const capMs = int('backoff-cap-ms', v['backoff-cap-ms']);
const options: AgentCommandOptions = {
  controlPlane: v['control-plane'] ?? '',
  token: v.token,
  instanceId: v['instance-id'],
  dataDir: v['data-dir'],
  healthPort: int('health-port', v['health-port']),
  healthHost: v['health-host'],
  concurrency: int('concurrency', v.concurrency),
  caFile: v['ca-file'],
  privacyLock: v['privacy-lock'],
  secretsFile: v['secrets-file'],
  secretEnv: v['secret-env']?.split(','),
  clientCert: v['client-cert'],
  clientKey: v['client-key'],
  controlPlaneProxy: v['control-plane-proxy'],
  browserProxy: v['browser-proxy'],
  browserProxyBypass: v['browser-proxy-bypass'],
  allowNoSandbox: v['allow-no-sandbox'],
  drainGraceMs: int('drain-grace-ms', v['drain-grace-ms']),
  flushTimeoutMs: int('flush-timeout-ms', v['flush-timeout-ms']),
  outboxCapBytes: int('outbox-cap-bytes', v['outbox-cap-bytes']),
  ...(baseMs === undefined && capMs === undefined ? {} : { backoff: { ...(baseMs === undefined ? {} : { baseMs }), ...(capMs === undefined ? {} : { capMs }) } }),
};
process.exitCode = await runAgentCommand(options, { stderr: (text) => void process.stderr.write(text) });
