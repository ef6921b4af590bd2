import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { EngineError, isBrowserScript, parseMonitorScriptText, runAgentCommand } from '../engine/index.ts';
import { startDemoSite } from '../scripts/demo-site/server.ts';
import { startControlPlane } from '../control-plane/server.ts';
import { demoSecrets, examplesDir } from './demo-command.ts';

export interface StartOptions {
  port: number;
  data: string;
  intervalSeconds: number;
  instances: number;
}

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

async function api(baseUrl: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

/** The checkpoint's token: created once, kept in the data directory (only its hash is in the database). */
async function checkpointToken(baseUrl: string, dataDir: string, name: string): Promise<string> {
  const file = join(dataDir, `${name}.token`);
  const saved = await readFile(file, 'utf8').catch(() => undefined);
  if (saved !== undefined && saved.trim() !== '') return saved.trim();
  const created = await api(baseUrl, 'POST', '/api/v1/checkpoints', { name });
  const token = (created.json as { token?: string } | undefined)?.token;
  if (created.status !== 201 || token === undefined) {
    throw new EngineError('INTERNAL', `could not create checkpoint "${name}" (HTTP ${created.status}); remove ${dataDir} to start afresh`, 'engine');
  }
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Every example script becomes a monitor of the local checkpoint (created, or updated when it exists). */
async function registerExamples(baseUrl: string, checkpoint: string, variables: Record<string, string>, intervalSeconds: number): Promise<number> {
  const files = (await readdir(examplesDir)).filter((file) => file.endsWith('.json')).sort();
  for (const file of files) {
    const parsed = parseMonitorScriptText(await readFile(join(examplesDir, file), 'utf8'));
    if (!parsed.ok) throw new EngineError('SCRIPT_INVALID', `${file}: ${parsed.problems[0]?.path ?? ''}: ${parsed.problems[0]?.message ?? ''}`, 'script');
    const id = basename(file, '.json');
    // A monitor has no script file: make upload paths absolute so agents find the example's files.
    for (const step of isBrowserScript(parsed.script) ? parsed.script.steps : []) {
      for (const action of step.actions) {
        if (action.type === 'upload') action.files = action.files.map((f) => (typeof f === 'string' && !isAbsolute(f) ? resolve(examplesDir, f) : f));
      }
    }
    const monitor = {
      name: parsed.script.name,
      checkpoint,
      intervalSeconds,
      enabled: true,
      script: parsed.script,
      variables,
      capture: { screenshots: 'failure' as const, filmstrip: false, har: true },
    };
    const existing = await api(baseUrl, 'GET', `/api/v1/monitors/${id}`);
    const saved = existing.status === 404 ? await api(baseUrl, 'POST', '/api/v1/monitors', { id, ...monitor }) : await api(baseUrl, 'PUT', `/api/v1/monitors/${id}`, { id, ...monitor });
    if (saved.status >= 300) throw new EngineError('INTERNAL', `could not register monitor ${id}: HTTP ${saved.status} ${JSON.stringify(saved.json)}`, 'engine');
  }
  return files.length;
}

/**
 * `checkpoint start`: everything on one machine — the reference control plane, two checkpoint instances, the
 * demo intranet and the example scripts as monitors. Runs until Ctrl-C, then drains the agents and stops.
 */
export async function runStart(options: StartOptions, io: Io): Promise<number> {
  const dataDir = resolve(options.data);
  await mkdir(dataDir, { recursive: true });
  const site = await startDemoSite({ port: 0 });
  const controlPlane = await startControlPlane({ port: options.port, dataDir: join(dataDir, 'control-plane'), checkpointDownAfterMs: 60_000 });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const agents: Promise<number>[] = [];
  try {
    const checkpoint = 'local';
    const token = await checkpointToken(controlPlane.url, dataDir, checkpoint);
    const count = await registerExamples(controlPlane.url, checkpoint, { baseUrl: site.url, partnerUrl: site.crossOriginUrl }, options.intervalSeconds);
    // The examples upload files from their own directory: the agents' uploads directory.
    const env = { ...process.env, ...demoSecrets, ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k in demoSecrets)), CHECKPOINT_UPLOADS_DIR: examplesDir };
    // A local demo whose quick start runs as root: its agents accept running Chromium unsandboxed there (each
    // says so at start); a deployed `checkpoint agent` refuses without --allow-no-sandbox.
    for (let index = 1; index <= options.instances; index++) {
      agents.push(
        runAgentCommand(
          { controlPlane: controlPlane.url, token, instanceId: `local-${index}`, dataDir: join(dataDir, `agent-${index}`), healthPort: 0, concurrency: 2, secretEnv: Object.keys(demoSecrets), allowNoSandbox: true },
          { stderr: (text) => io.stderr(`[agent ${index}] ${text}`), signal: stop.signal, handleSignals: false, env },
        ),
      );
    }
    io.stdout(`Dashboard: ${controlPlane.url}/\n`);
    io.stderr(`Control plane, ${options.instances} checkpoint instances, the demo intranet (${site.url}/) and ${count} example monitors every ${options.intervalSeconds} s. Press Ctrl-C to stop.\n`);
    const codes = await Promise.all(agents);
    return codes.every((code) => code === 0) ? 0 : Math.max(...codes);
  } finally {
    stop.abort();
    await Promise.allSettled(agents);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await controlPlane.close();
    await site.close();
  }
}
