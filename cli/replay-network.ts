import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBrowserTrustHome, EngineError, type BrowserNetwork } from '../engine/index.ts';

/** `checkpoint replay --proxy/--proxy-bypass/--ca-file`: the same browser network settings as the agent's. */
export interface ReplayNetworkOptions {
  proxy?: string | undefined;
  proxyBypass?: string | undefined;
  caFile?: string | undefined;
}

/**
 * The browser network of a local replay: the proxy checked, and for --ca-file a throw-away HOME whose NSS
 * database trusts the CA (removed by `close`). Bad input throws EngineError (blame script, exit 2).
 */
export async function prepareReplayNetwork(options: ReplayNetworkOptions): Promise<{ network: BrowserNetwork | undefined; close(): Promise<void> }> {
  if (options.proxy === undefined && options.caFile === undefined) return { network: undefined, close: () => Promise.resolve() };
  if (options.proxy !== undefined && !(URL.canParse(options.proxy) && ['http:', 'https:', 'socks5:'].includes(new URL(options.proxy).protocol))) {
    throw new EngineError('USAGE', '--proxy: expected a proxy URL such as http://proxy.example:3128 (http:, https:, socks5:)', 'script');
  }
  const network: BrowserNetwork = { proxy: options.proxy, proxyBypass: options.proxyBypass };
  if (options.caFile === undefined) return { network, close: () => Promise.resolve() };
  const pem = await readCaFile(options.caFile);
  const home = await mkdtemp(join(tmpdir(), 'checkpoint-browser-home-'));
  const close = () => rm(home, { recursive: true, force: true });
  try {
    network.homeDir = await buildBrowserTrustHome(home, pem, `--ca-file ${options.caFile}`);
  } catch (error) {
    await close();
    throw error;
  }
  return { network, close };
}

/** The PEM certificates of `--ca-file`; a missing or non-PEM file is bad input naming the flag. */
export async function readCaFile(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch {
    throw new EngineError('FILE_NOT_FOUND', `--ca-file: cannot read ${file}`, 'script');
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new EngineError('USAGE', `--ca-file: ${file}: expected PEM certificates (-----BEGIN CERTIFICATE-----)`, 'script');
  return pem;
}
