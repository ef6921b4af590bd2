import { startDemoSite } from '../scripts/demo-site/server.ts';

/** `checkpoint demo-site`: serve until SIGINT/SIGTERM, then close cleanly. */
export async function serveDemoSite(options: { port: number; host: string }, io: { stderr: (t: string) => void; stdout: (t: string) => void }): Promise<void> {
  const site = await startDemoSite({ port: options.port, host: options.host });
  io.stdout(`Demo intranet at ${site.url}/ (sign in as demo / demo-password); partner widget at ${site.crossOriginUrl}/widget\n`);
  io.stderr('Press Ctrl-C to stop.\n');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await site.close();
}
