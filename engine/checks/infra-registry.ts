import type { CheckDefinition } from './check-types.ts';
import { dnsCheck } from './dns.ts';
import { smtpCheck } from './smtp.ts';
import { tcpCheck } from './tcp.ts';
import { tlsCheck } from './tls.ts';
import { postgresCheck } from './postgres.ts';
import { mysqlCheck } from './mysql.ts';
import { sftpCheck } from './sftp.ts';
import { ftpCheck } from './ftp.ts';
import { imapCheck } from './imap.ts';
import { pop3Check } from './pop3.ts';

/**
 * The infrastructure checks (TCP, DNS, TLS, SMTP, IMAP, POP3, SFTP, FTP, PostgreSQL, MySQL), by kind. Their
 * spec schemas are listed in the same order in engine/schema/checks/infra.ts.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each definition checks its own spec type
export const infraChecks: readonly CheckDefinition<any>[] = [tcpCheck, dnsCheck, tlsCheck, smtpCheck, imapCheck, pop3Check, sftpCheck, ftpCheck, postgresCheck, mysqlCheck];
