import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemoSite } from '../scripts/demo-site/server.ts';
import { BrowserPool, formatDurationMs, formatTable } from '../engine/index.ts';
import { exitCodes } from './exit-codes.ts';
import { replay, type ReplayIo } from './replay-command.ts';

export const examplesDir = fileURLToPath(new URL('../scripts/examples', import.meta.url));

/** The secrets the examples need, with the demo site's well-known values as defaults. */
export const demoSecrets: Record<string, string> = { DEMO_PASSWORD: 'demo-password', BASIC_AUTH_PASSWORD: 'basic-secret', DEMO_CLIENT_SECRET: 'demo-client-secret' };

/**
 * The main job until the agent and control plane exist: start the demo site, replay every example script
 * against it on one shared browser, write each result under `out/<example>/`, print a summary.
 */
export async function runDemo(options: { out: string }, io: ReplayIo): Promise<number> {
  for (const [name, value] of Object.entries(demoSecrets)) process.env[name] ??= value;
  const files = (await readdir(examplesDir)).filter((file) => file.endsWith('.json')).sort();
  const site = await startDemoSite({ port: 0 });
  io.stderr(`Demo site at ${site.url}/ — replaying ${files.length} example scripts\n\n`);
  // The same warm pool the agent uses: a spare context is ready before each example starts.
  const pool = new BrowserPool({ browsers: 1, contextsPerBrowser: 2 });
  await pool.warm();
  const rows: string[][] = [['example', 'status', 'steps', 'duration', 'output']];
  let worst: number = exitCodes.passed;
  try {
    for (const file of files) {
      const name = basename(file, '.json');
      const out = join(options.out, name);
      const { exitCode, result } = await replay(join(examplesDir, file), { vars: { baseUrl: site.url, partnerUrl: site.crossOriginUrl }, out, headed: false, json: false }, io, pool);
      worst = Math.max(worst, exitCode);
      rows.push([name, result.status, String(result.steps.length), formatDurationMs(result.durationMs), join(out, 'result.json')]);
      io.stderr('\n');
    }
  } finally {
    await pool.close();
    await site.close();
  }
  io.stdout(`${formatTable(rows)}\n`);
  return worst;
}
