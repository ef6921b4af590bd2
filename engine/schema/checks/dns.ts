import { z } from 'zod';
import { formatOrTemplate } from './infra-common.ts';

export const dnsRecordTypes = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SRV', 'SOA', 'CAA', 'PTR', 'NAPTR'] as const;

export const dnsServerPattern = /^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9a-fA-F:.]+\](:\d{1,5})?|[0-9a-fA-F:]+)$/;

export const dnsCheckSchema = z
  .strictObject({
    query: z.string().min(1).describe('The DNS name to look up, e.g. `www.example.com` (for PTR: the reverse name or an IP address). Called `query` because `name` is the check`s own name.'),
    recordType: z.enum(dnsRecordTypes).default('A').describe('The record type asked for.'),
    server: formatOrTemplate(dnsServerPattern, 'an IP address, `ip:port` or `[ipv6]:port`')
      .optional()
      .describe('The DNS server asked (`ip`, `ip:port` or `[ipv6]:port`); defaults to the checkpoint`s resolvers.'),
    expect: z
      .strictObject({
        contains: z.array(z.string().min(1)).min(1).optional().describe('Answers that must be among those returned (each compared whole, case-insensitive for names).'),
        equals: z.array(z.string().min(1)).min(1).optional().describe('The exact set of answers (any order).'),
        minAnswers: z.number().int().min(0).optional().describe('At least this many answers.'),
      })
      .optional()
      .describe('What the answers must be, in the form the result shows them (MX: `10 mail.example.com`, SRV: `priority weight port target`, TXT: the strings joined, CAA: `0 issue ca.example`).'),
  })
  .describe('DNS lookup: the name has records of the type, optionally with the expected answers.');
export type DnsCheckSpec = z.infer<typeof dnsCheckSchema>;
