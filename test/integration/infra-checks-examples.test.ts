// Every scripts/examples/infra/<kind>.json passes against real local servers (the same ones the per-kind tests
// start), with its {{variables}} pointed at them; and fails with CONNECT_FAILED against a closed port.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer as createTlsServer, type Server } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { infraChecks } from '../../engine/checks/infra-registry.ts';
import { renderHtmlReport } from '../../engine/report/html-report.ts';
import { runCheck } from '../../engine/runner/run-check.ts';
import { isBrowserScript, monitorScriptSchema } from '../../engine/schema/script.ts';
import { renderDeep } from '../../engine/core/templates.ts';
import { infraCheckSchemas } from '../../engine/schema/checks/infra.ts';
import { makeTestPki, type TestPki } from '../helpers/servers/certificates.ts';
import { checkEnv } from '../helpers/servers/check-env.ts';
import { dnsmasqMissing, startDnsmasq } from '../helpers/servers/dnsmasq.ts';
import { dovecotMissing, startDovecot } from '../helpers/servers/dovecot.ts';
import { mariadbMissing, startMariadb } from '../helpers/servers/mariadb.ts';
import { assertFailed, assertPassed } from '../helpers/servers/outcome.ts';
import { freePort } from '../helpers/servers/ports.ts';
import { postgresMissing, startPostgres } from '../helpers/servers/postgres.ts';
import { sshdMissing, startSshd } from '../helpers/servers/sshd.ts';
import { makeTempDir } from '../helpers/servers/temp-dir.ts';
import { startVsftpd, vsftpdMissing } from '../helpers/servers/vsftpd.ts';

// A folder of their own: `checkpoint demo` replays scripts/examples/*.json against the demo site, which has no
// database, mail or file servers.
const examplesDir = fileURLToPath(new URL('../../scripts/examples/infra/', import.meta.url));
const examples = readdirSync(examplesDir)
  .filter((file) => file.endsWith('.json'))
  .sort()
  .map((file) => ({ file, script: JSON.parse(readFileSync(join(examplesDir, file), 'utf8')) as Record<string, unknown> & { kind: string; variables?: Record<string, string> } }));

/** The fields the script schema adds to every kind; the rest is the kind's spec. */
const commonFields = new Set(['$schema', 'kind', 'name', 'description', 'variables', 'timeoutMs', 'conditions']);
const specOf = (script: Record<string, unknown>) => Object.fromEntries(Object.entries(script).filter(([key]) => !commonFields.has(key)));

const missing = dnsmasqMissing() || postgresMissing() || mariadbMissing() || sshdMissing() || dovecotMissing() || vsftpdMissing();

describe('infrastructure examples', { skip: missing }, () => {
  const dir = makeTempDir('examples-pki');
  let pki: TestPki;
  const variables: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  const stops: (() => Promise<void>)[] = [];

  before(async () => {
    pki = makeTestPki(dir.path);
    const smtpPassword = 'smtp-Example-1';
    const smtp = new SMTPServer({
      key: pki.server.key,
      cert: pki.server.cert,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth: (auth, _session, callback) => (auth.username === 'monitor' && auth.password === smtpPassword ? callback(null, { user: 'monitor' }) : callback(new Error('Invalid username or password'))),
    });
    const listen = (server: Server) =>
      new Promise<number>((resolve) => {
        server.listen(0, '127.0.0.1', () => {
          const address = server.address();
          resolve(typeof address === 'object' && address !== null ? address.port : 0);
        });
      });
    const smtpPort = await new Promise<number>((resolve) => {
      smtp.listen(0, '127.0.0.1', () => {
        const address = smtp.server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
    stops.push(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
    const tls = createTlsServer({ cert: pki.server.cert, key: pki.server.key }, (socket) => socket.end());
    tls.on('tlsClientError', () => {});
    const tlsPort = await listen(tls);
    stops.push(() => new Promise<void>((resolve) => tls.close(() => resolve())));
    // The TCP example expects an SMTP banner: it is pointed at the SMTP server.

    const [dns, pg, maria, ssh, mail, ftp] = await Promise.all([startDnsmasq(), startPostgres(pki.server), startMariadb(pki.server), startSshd(), startDovecot(pki.server), startVsftpd(pki.server)]);
    for (const server of [dns, pg, maria, ssh, mail, ftp]) stops.push(() => server.stop());
    Object.assign(variables, {
      tcpHost: '127.0.0.1',
      tcpPort: String(smtpPort),
      dnsServer: dns.server,
      tlsHost: 'localhost',
      tlsPort: String(tlsPort),
      smtpHost: 'localhost',
      smtpPort: String(smtpPort),
      imapHost: 'localhost',
      imapPort: String(mail.imapsPort),
      imapUser: mail.user,
      pop3Host: 'localhost',
      pop3Port: String(mail.pop3Port),
      pop3User: mail.user,
      sftpHost: 'localhost',
      sftpPort: String(ssh.port),
      sftpUser: ssh.user,
      sftpHostKey: ssh.hostKeyFingerprint,
      sftpPath: ssh.filesDir,
      ftpHost: 'localhost',
      ftpPort: String(ftp.port),
      pgHost: 'localhost',
      pgPort: String(pg.port),
      pgUser: pg.user,
      mysqlHost: 'localhost',
      mysqlPort: String(maria.port),
      mysqlUser: maria.user,
    });
    Object.assign(secrets, { SMTP_PASSWORD: smtpPassword, IMAP_PASSWORD: mail.password, POP3_PASSWORD: mail.password, SFTP_PRIVATE_KEY: ssh.privateKey, PG_PASSWORD: pg.password, MYSQL_PASSWORD: maria.password });
  });
  after(async () => {
    await Promise.all(stops.map((stop) => stop()));
    dir.remove();
  });

  const render = (script: Record<string, unknown> & { variables?: Record<string, string> }, overrides: Record<string, string> = {}) => {
    const values = { ...script.variables, ...variables, ...overrides };
    return renderDeep(specOf(script), { variable: (name) => values[name], secret: (name) => secrets[name] }, '(root)');
  };

  test('there is one example per infrastructure kind, each valid for its kind', () => {
    assert.deepEqual(examples.map((example) => example.script.kind).sort(), Object.keys(infraCheckSchemas).sort());
    for (const { file, script } of examples) {
      const schema = infraCheckSchemas[script.kind];
      assert.ok(schema, `${file}: kind ${script.kind}`);
      // Validated as written (before rendering), as the script schema does.
      const result = schema.safeParse(specOf(script));
      assert.ok(result.success, `${file}: ${JSON.stringify(result.error?.issues)}`);
    }
  });

  for (const { file, script } of examples) {
    test(`${file} passes through the runner, the result and the report like any other monitor`, async () => {
      // What `checkpoint replay` and the agent do: the script schema, templating, secrets, the vetted lookup.
      const parsed = monitorScriptSchema.parse(script);
      assert.ok(!isBrowserScript(parsed));
      const { result } = await runCheck({ script: parsed, variables, secret: (name) => secrets[name], caCertificates: [pki.caCert] });
      assert.equal(result.status, 'passed', JSON.stringify(result.steps.map((step) => step.error)));
      assert.equal(result.kind, script.kind);
      const step = result.steps[0];
      assert.ok(step?.check !== undefined && Object.keys(step.check.phases).length > 0, 'the phases are in the result');
      const html = renderHtmlReport(result);
      for (const phase of Object.keys(step.check.phases)) assert.ok(html.includes(phase.replace(/Ms$/, '')), `${phase} shows in the report`);
      for (const value of Object.values(secrets)) assert.ok(!JSON.stringify(result).includes(value) && !html.includes(value), 'no secret in the result or report');
    });

    test(`${file} passes against its local server, and fails clearly against a closed port`, async () => {
      const check = infraChecks.find((candidate) => candidate.kind === script.kind);
      const schema = infraCheckSchemas[script.kind];
      assert.ok(check && schema);
      const outcome = await check.run(schema.parse(render(script)), checkEnv({ caCertificates: [pki.caCert] }));
      assertPassed(outcome, script.kind === 'dns' ? ['dnsMs'] : ['connectMs']);
      const closed = String(await freePort());
      const portVariable = Object.keys(script.variables ?? {}).find((name) => /Port$/.test(name));
      if (portVariable === undefined) return;
      const failing = await check.run(schema.parse(render(script, { [portVariable]: closed })), checkEnv({ caCertificates: [pki.caCert] }));
      assertFailed(failing, 'CONNECT_FAILED', /ECONNREFUSED/);
    });
  }
});
