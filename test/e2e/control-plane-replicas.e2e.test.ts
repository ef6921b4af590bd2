// End to end, issue 15: three `checkpoint control-plane` replicas on one real PostgreSQL 15 (loopback, temp dir, TLS
// verified against a test CA), five real `checkpoint agent` processes spread over them by a TCP balancer (as a
// Kubernetes Service spreads them). A follower, then the replica that leads, is SIGKILLed while one of its agents
// runs a run: the agents reconnect to the others and the last replica takes the lead; every due run happens once,
// no result is lost or stored twice, and the incident that started before the kills is alerted once.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { scriptSchema } from '../../engine/schema/script.ts';
import { Balancer } from '../helpers/e2e/balancer.ts';
import type { ControlPlaneProcess } from '../helpers/e2e/control-plane-process.ts';
import { assertNoProcessLeft, ChromiumWatch } from '../helpers/e2e/leaks.ts';
import { sleep } from '../helpers/e2e/wait.ts';
import { E2eWorld, monitor } from '../helpers/e2e/world.ts';
import type { MonitorInput } from '../helpers/e2e/api.ts';
import { makeTestPki } from '../helpers/servers/certificates.ts';
import { postgresMissing, startPostgres } from '../helpers/servers/postgres.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';

const watch = new ChromiumWatch();
after(async () => {
  await assertNoProcessLeft(watch);
});

/** A site with one page per monitor: `/m/<id>` answers after `delayMs`, with 500 for ids starting `broken`; it counts page loads. */
async function startTarget(): Promise<{ url: string; hits: Map<string, number>; close(): Promise<void> }> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://target.invalid');
    const match = /^\/m\/([\w-]+)$/.exec(url.pathname);
    if (match === null) {
      res.writeHead(404).end();
      return;
    }
    const id = match[1] ?? '';
    hits.set(id, (hits.get(id) ?? 0) + 1);
    const delayMs = Number(url.searchParams.get('delayMs') ?? '0');
    setTimeout(() => {
      res.writeHead(id.startsWith('broken') ? 500 : 200, { 'Content-Type': 'text/html' }).end(`<!doctype html><title>${id}</title><p>Page ${id} served</p>`);
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function pageScript(targetUrl: string, id: string, delayMs: number): MonitorInput['script'] {
  return scriptSchema.parse({
    name: `Page ${id}`,
    steps: [{ name: 'Open', actions: [{ type: 'navigate', url: `${targetUrl}/m/${id}?delayMs=${delayMs}` }, { type: 'assertText', text: `Page ${id} served` }] }],
  });
}

const intervalSeconds = 10;

describe('control-plane replicas on PostgreSQL', { skip: postgresMissing() }, () => {
  it('survives the leading replica`s SIGKILL mid-run: agents move, each due run happens once, nothing lost or doubled, one alert per incident', { timeout: 300_000 }, async (t) => {
    const dir = makeTempDir('replicas-pg');
    t.after(() => dir.remove());
    const pki = makeTestPki(dir.path);
    const postgres = await startPostgres(pki.server, { maxConnections: 60 });
    t.after(() => postgres.stop());
    const target = await startTarget();
    t.after(() => target.close());
    const database = `postgres://${postgres.user}:${postgres.password}@localhost:${postgres.port}/${postgres.database}?sslmode=verify-full&sslrootcert=${encodeURIComponent(pki.caCertPath)}`;

    const world = await E2eWorld.create(t, watch);
    const replica = (id: string) =>
      world.replica({ name: `replica ${id}`, heartbeatIntervalMs: 1000, checkpointDownAfterMs: 60_000, args: ['--database', database, '--replica-id', id, '--leader-lease-ms', '3000'] });
    const replicas = [await replica('a'), await replica('b'), await replica('c')];
    const balancer = await Balancer.start(replicas.map((cp) => cp.port));
    t.after(() => balancer.close());
    assert.match(replicas[0]!.log, /postgres:\/\/monitor:\*\*\*@localhost/, 'the log names the database…');
    assert.ok(!replicas[0]!.log.includes(postgres.password), '…never with its password');

    const token = await replicas[0]!.api.createCheckpoint('intranet');
    const agentIds = ['north', 'south', 'east', 'west', 'centre'];
    for (const instanceId of agentIds) await world.agent({ instanceId, token, concurrency: 1, controlPlaneUrl: balancer.url });
    const live = () => replicas.filter((cp) => cp.running);
    const api = () => live()[0]!.api;
    const online = (count: number) =>
      world.waitUntil(`${count} agents online`, async () => ((await api().checkpoint('intranet')).online === count ? true : undefined), { timeoutMs: 90_000 });
    await online(agentIds.length);
    /** Which replica holds each agent's link now (its latest `connected` line, across every replica's log). */
    const holders = () => {
      const holder = new Map<string, ControlPlaneProcess>();
      const lines = replicas.flatMap((cp) => cp.log.split('\n').map((line) => ({ cp, line })));
      lines.sort((x, y) => x.line.localeCompare(y.line));
      for (const { cp, line } of lines) {
        const match = /hub: intranet\/(\w+) connected/.exec(line);
        if (match !== null) holder.set(match[1] ?? '', cp);
      }
      return holder;
    };
    const linkedTo = (cp: ControlPlaneProcess) => new Set([...holders()].filter(([, holder]) => holder === cp).map(([id]) => id));
    assert.ok(replicas.every((cp) => linkedTo(cp).size > 0), 'the balancer spread the agents over the three replicas');
    const leader = () => live().find((cp) => cp.log.split('\n').filter((line) => /cluster: \w+ (leads|no longer leads)/.test(line)).at(-1)?.includes(' leads') === true);

    const monitorIds = ['steady-1', 'steady-2', 'steady-3', 'broken-1'];
    for (const id of monitorIds) await api().createMonitor(monitor(id, 'intranet', pageScript(target.url, id, 1500), { intervalSeconds }));
    const runs = async () => (await Promise.all(monitorIds.map((id) => api().runs(id)))).flat();

    /** SIGKILL `victim` while one of the agents whose links it holds is running a run; returns when. */
    const killMidRun = async (victim: ControlPlaneProcess): Promise<number> => {
      await world.waitUntil(`a run under way on an agent linked to the replica to kill`, async () => {
        const linked = linkedTo(victim);
        return (await runs()).some((run) => run.status === 'running' && linked.has(run.instance ?? '')) ? true : undefined;
      }, { timeoutMs: 60_000 });
      const killedAtMs = Date.now();
      victim.process?.signal('SIGKILL');
      await world.waitUntil('the replica to be gone', () => (victim.running ? undefined : true));
      return killedAtMs;
    };
    const runsAfter = (atMs: number, count: number) =>
      world.waitUntil(`${count} more runs of every monitor`, async () => {
        const all = await Promise.all(monitorIds.map((id) => api().runs(id)));
        return all.every((list) => list.filter((run) => run.finishedAt !== undefined && Date.parse(run.dispatchedAt) > atMs).length >= count) ? true : undefined;
      }, { timeoutMs: 120_000 });

    await runsAfter(0, 2);
    const firstLeader = await world.waitUntil('a leader', () => leader());
    // 1. A follower dies: its agents move to the others; the leader keeps their runs through the reconnection.
    const follower = live().find((cp) => cp !== firstLeader && linkedTo(cp).size > 0);
    assert.ok(follower !== undefined, 'a follower holds agents');
    const followerKilledAtMs = await killMidRun(follower);
    await online(agentIds.length);
    await runsAfter(followerKilledAtMs, 1);
    assert.equal(leader(), firstLeader, 'the leader stayed');
    // 2. The leader dies mid-run: the last replica takes the lead from the database.
    const leaderKilledAtMs = await killMidRun(firstLeader);
    const survivor = live()[0]!;
    assert.equal(live().length, 1);
    await world.waitUntil('the survivor to lead', () => (leader() === survivor ? true : undefined), { timeoutMs: 30_000 });
    await online(agentIds.length);
    await runsAfter(leaderKilledAtMs, 2);

    // Quiesce: no new runs, and the ones under way finish.
    for (const id of monitorIds) assert.equal((await survivor.api.call('PATCH', `/api/v1/monitors/${id}`, { enabled: false })).status, 200);
    await world.waitUntil('no run in flight', async () => ((await Promise.all(monitorIds.map((id) => survivor.api.runs(id)))).flat().every((run) => run.status !== 'dispatched' && run.status !== 'running') ? true : undefined), { timeoutMs: 60_000 });
    await sleep(1000);

    for (const id of monitorIds) {
      const runs = await survivor.api.runs(id);
      const views = await Promise.all(runs.map((run) => survivor.api.run(run.runId)));
      assert.deepEqual(runs.filter((run) => run.status === 'lost').map((run) => `${run.runId}: ${run.lostReason ?? ''}`), [], `${id}: no run written off across the failover`);
      assert.deepEqual(views.filter((view) => view.result === null).map((view) => view.run.runId), [], `${id}: every run has its result`);
      assert.equal(target.hits.get(id) ?? 0, runs.length, `${id}: the page was loaded once per stored run (${runs.length}), never by a run nobody recorded`);
      const scheduled = runs.filter((run) => run.reason === 'schedule').map((run) => Date.parse(run.dispatchedAt)).sort((a, b) => a - b);
      for (let index = 1; index < scheduled.length; index++) {
        const gapMs = (scheduled[index] ?? 0) - (scheduled[index - 1] ?? 0);
        assert.ok(gapMs >= intervalSeconds * 1000 * 0.9, `${id}: scheduled runs ${gapMs} ms apart: a due run was dispatched twice`);
      }
    }
    const idOf = (cp: ControlPlaneProcess) => (cp.options.name ?? '').replace('replica ', '');
    const cluster = (await survivor.api.call<{ mode: string; leader?: string; replicas: { id: string; alive: boolean; leading: boolean }[] }>('GET', '/api/v1/cluster')).body;
    assert.equal(cluster.mode, 'cluster');
    assert.equal(cluster.leader, idOf(survivor), 'the survivor leads');
    assert.deepEqual(
      cluster.replicas.map((entry) => [entry.id, entry.alive, entry.leading]),
      replicas.map((cp) => [idOf(cp), cp === survivor, cp === survivor]),
      'the killed replicas are listed, no longer alive',
    );
    const alerts = await survivor.api.alerts();
    assert.deepEqual(alerts.filter((alert) => alert.kind === 'monitor-failed').map((alert) => alert.monitorId), ['broken-1'], 'the broken monitor alerted once, across the failover');
    assert.equal(alerts.filter((alert) => alert.kind === 'checkpoint-down').length, 0, 'the checkpoint was never down');
    assert.ok((await survivor.api.runs('broken-1')).filter((run) => Date.parse(run.dispatchedAt) > leaderKilledAtMs).every((run) => run.resultStatus === 'failed'), 'the broken monitor kept failing after the kill');
  });
});
