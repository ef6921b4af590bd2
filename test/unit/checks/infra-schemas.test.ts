import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { infraChecks } from '../../../engine/checks/infra-registry.ts';
import { infraCheckSchemas } from '../../../engine/schema/checks/infra.ts';

/** Every field of an object schema, nested objects included, with its path. */
function* fieldsOf(schema: z.ZodObject, path: string): Generator<[string, z.ZodType]> {
  for (const [name, field] of Object.entries(schema.shape)) {
    const fieldPath = `${path}.${name}`;
    yield [fieldPath, field as z.ZodType];
    let inner = field as z.ZodType;
    // Unwrap optional/default to reach a nested object.
    while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
    if (inner instanceof z.ZodObject) yield* fieldsOf(inner, fieldPath);
  }
}

test('every registered check has a schema and every schema a check, under the same kind', () => {
  const kinds = infraChecks.map((check) => check.kind);
  assert.deepEqual([...kinds].sort(), Object.keys(infraCheckSchemas).sort());
  assert.deepEqual(kinds.sort(), ['dns', 'ftp', 'imap', 'mysql', 'pop3', 'postgres', 'sftp', 'smtp', 'tcp', 'tls']);
});

test('schemas hold the fields of their kind only, every field described', () => {
  for (const [kind, schema] of Object.entries(infraCheckSchemas)) {
    assert.ok(schema.description, `${kind} has a description`);
    for (const reserved of ['kind', 'name', 'timeoutMs', 'conditions']) assert.ok(!(reserved in schema.shape), `${kind} must not define ${reserved}`);
    for (const [path, field] of fieldsOf(schema, kind)) assert.ok(field.description !== undefined && field.description.length > 10, `${path} needs a .describe()`);
  }
});

test('schemas are strict: an unknown or misspelt field is an error naming it', () => {
  for (const [kind, schema] of Object.entries(infraCheckSchemas)) {
    const result = schema.safeParse({ hots: 'x' });
    assert.equal(result.success, false, kind);
    assert.match(JSON.stringify(result.error?.issues), /hots/, `${kind} names the unknown key`);
  }
});

test('schemas fill their defaults and check ranges', () => {
  assert.deepEqual(infraCheckSchemas.tls?.parse({ host: 'example.com' }), { host: 'example.com', port: 443, warnDays: 30, errorDays: 7, checkHostname: true, checkChain: true });
  assert.equal(infraCheckSchemas.postgres?.parse({ host: 'db', username: 'u' }).tls, 'verify');
  assert.equal(infraCheckSchemas.tcp?.safeParse({ host: 'h', port: 70000 }).success, false);
  assert.equal(infraCheckSchemas.sftp?.safeParse({ host: 'h', username: 'u', password: 'p', hostKey: 'MD5:aa' }).success, false);
  assert.equal(infraCheckSchemas.sftp?.safeParse({ host: 'h', username: 'u', password: 'p', hostKey: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' }).success, true);
  assert.equal(infraCheckSchemas.dns?.safeParse({ query: 'a.example', server: 'not-an-ip' }).success, false);
  assert.equal(infraCheckSchemas.dns?.safeParse({ query: 'a.example', server: '[::1]:5353' }).success, true);
  assert.equal(infraCheckSchemas.tcp?.safeParse({ host: 'h', port: 1, expect: {} }).success, false, 'an empty expectation is refused');
});

test('schemas convert to JSON Schema (for `checkpoint schema`)', () => {
  for (const [kind, schema] of Object.entries(infraCheckSchemas)) {
    const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, { description?: string }>; additionalProperties?: unknown };
    assert.equal(json.additionalProperties, false, kind);
    for (const [name, property] of Object.entries(json.properties ?? {})) assert.ok(property.description, `${kind}.${name} described in JSON Schema`);
  }
});

test('a port may be a {{variable}} (validated before rendering) and is read as a number after', async () => {
  const { portOf } = await import('../../../engine/checks/infra/connect.ts');
  assert.equal(infraCheckSchemas.postgres?.safeParse({ host: '{{dbHost}}', port: '{{dbPort}}', username: 'u' }).success, true);
  assert.equal(infraCheckSchemas.postgres?.safeParse({ host: 'db', port: 'five', username: 'u' }).success, false);
  assert.equal(portOf('5432'), 5432);
  assert.equal(portOf(22), 22);
  assert.throws(() => portOf('70000'), { code: 'SCRIPT_INVALID', message: 'port: "70000" is not a port number (1-65535)' });
});
