/** The JSON Schema committed for editors must be exactly what the zod schema generates. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { actionTypes } from '../../../engine/schema/actions.ts';
import { transactionJsonSchema, transactionJsonSchemaText } from '../../../engine/schema/json-schema.ts';

const committedPath = new URL('../../../scripts/transaction.schema.json', import.meta.url);

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);

function child(node: unknown, ...keys: (string | number)[]): unknown {
  let current = node;
  for (const key of keys) current = Array.isArray(current) ? current[key as number] : isObject(current) ? current[key as string] : undefined;
  return current;
}

/** The browser transaction's variant of the script union (the one whose `kind` is `browser`). */
function browserVariant(schema: JsonObject): JsonObject {
  const variants = child(schema, 'oneOf');
  assert.ok(Array.isArray(variants), 'expected the script schema to be a oneOf of kinds');
  const browser = variants.filter(isObject).find((variant) => child(variant, 'properties', 'kind', 'const') === 'browser');
  assert.ok(browser !== undefined, 'expected a browser variant');
  return browser;
}

/** The JSON Schema variants of the action union. */
function actionVariants(schema: JsonObject): JsonObject[] {
  const items = child(browserVariant(schema), 'properties', 'steps', 'items', 'properties', 'actions', 'items');
  const variants = child(items, 'oneOf') ?? child(items, 'anyOf');
  assert.ok(Array.isArray(variants), 'expected steps[].actions[] to be a oneOf/anyOf of action objects');
  return variants.filter(isObject);
}

describe('JSON Schema', () => {
  it('matches the committed scripts/transaction.schema.json byte for byte', async () => {
    let committed: string;
    try {
      committed = await readFile(committedPath, 'utf8');
    } catch {
      assert.fail('scripts/transaction.schema.json is missing: run `npm run schema` and commit it');
    }
    assert.ok(
      committed === transactionJsonSchemaText(),
      'scripts/transaction.schema.json is out of date with engine/schema: run `npm run schema` and commit the result',
    );
  });

  it('is JSON with stable two-space formatting and a trailing newline', () => {
    const text = transactionJsonSchemaText();
    assert.ok(text.endsWith('}\n'));
    assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
  });

  it('declares draft 2020-12, an id and a title', () => {
    const schema = transactionJsonSchema();
    assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema['$id'], 'https://private-checkpoint.invalid/transaction.schema.json');
    assert.equal(schema['title'], 'Private checkpoint transaction script');
    assert.deepEqual(browserVariant(schema)['required'], ['name', 'steps']);
    const kinds = (child(schema, 'oneOf') as JsonObject[]).map((variant) => child(variant, 'properties', 'kind', 'const'));
    assert.deepEqual(kinds.slice(0, 3), ['browser', 'api', 'http'], 'every kind is a variant, browser first');
  });

  it('has one variant per action type, each named by a const type', () => {
    const consts = actionVariants(transactionJsonSchema()).map((variant) => child(variant, 'properties', 'type', 'const'));
    assert.deepEqual(consts, [...actionTypes]);
  });

  it('mentions every action type in the text editors read', () => {
    const text = transactionJsonSchemaText();
    for (const type of actionTypes) assert.ok(text.includes(`"const": "${type}"`), `${type} missing from the schema`);
  });

  it('rejects unknown fields on every action, like the validator does', () => {
    for (const variant of actionVariants(transactionJsonSchema())) {
      assert.equal(variant['additionalProperties'], false, JSON.stringify(child(variant, 'properties', 'type')));
    }
  });

  it('describes every action and every field (except the `type` discriminator)', () => {
    const undocumented: string[] = [];
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) {
        node.forEach((item, index) => visit(item, `${path}[${index}]`));
        return;
      }
      if (!isObject(node)) return;
      const properties = node['properties'];
      if (isObject(properties)) {
        for (const [key, value] of Object.entries(properties)) {
          const isDiscriminator = key === 'type' && isObject(value) && 'const' in value;
          if (isDiscriminator) continue;
          if (!isObject(value) || typeof value['description'] !== 'string' || value['description'] === '') undocumented.push(`${path}.${key}`);
        }
      }
      for (const [key, value] of Object.entries(node)) visit(value, `${path}.${key}`);
    };
    const schema = transactionJsonSchema();
    visit(schema, '#');
    assert.deepEqual(undocumented, []);
    for (const variant of actionVariants(schema)) assert.equal(typeof variant['description'], 'string');
    assert.match(String(child(browserVariant(schema), 'properties', 'steps', 'items', 'properties', 'actions', 'items', 'oneOf', 0, 'description')), /Open a URL/);
  });
});
