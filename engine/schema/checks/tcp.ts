import { z } from 'zod';
import { hostField, portField, textExpectationSchema } from './infra-common.ts';

export const tcpCheckSchema = z
  .strictObject({
    host: hostField,
    port: portField('any'),
    send: z
      .string()
      .optional()
      .describe('Text sent once connected (escape sequences such as `\\r\\n` are sent as written in JSON), e.g. a protocol`s hello.'),
    expect: textExpectationSchema
      .optional()
      .describe('What the server must send (its banner, or the answer to `send`): the check reads until this holds, the server closes or time runs out.'),
  })
  .describe('TCP connect: the port accepts a connection; optionally a banner or an answer is checked.');
export type TcpCheckSpec = z.infer<typeof tcpCheckSchema>;
