/** Argument handling of the `checkpoint` command tree, in process: parse errors never reach an action. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CommanderError, type Command } from 'commander';
import { buildProgram } from '../../../cli/main.ts';
import { transactionJsonSchemaText } from '../../../engine/schema/json-schema.ts';
import { tempDir } from './support.ts';

/** A fresh program whose output goes to strings instead of the terminal. */
function quietProgram(): { program: Command; output: () => string } {
  const program = buildProgram();
  let output = '';
  const sink = { writeOut: (text: string) => void (output += text), writeErr: (text: string) => void (output += text) };
  for (const command of [program, ...program.commands]) command.configureOutput(sink);
  return { program, output: () => output };
}

async function parseError(args: readonly string[]): Promise<{ error: CommanderError; output: string }> {
  const { program, output } = quietProgram();
  try {
    await program.parseAsync(['node', 'checkpoint', ...args], { from: 'node' });
  } catch (error) {
    assert.ok(error instanceof CommanderError, `expected a CommanderError, got ${String(error)}`);
    return { error, output: output() };
  }
  assert.fail(`expected ${args.join(' ')} to be rejected`);
}

describe('checkpoint command line', () => {
  it('rejects --var =x with the collectVar explanation', async () => {
    const { error, output } = await parseError(['replay', 'x.json', '--var', '=x']);
    assert.equal(error.code, 'commander.invalidArgument');
    assert.match(error.message, /--var: expected name=value \(name made of letters, digits and _\), got "=x"/);
    assert.match(output, /\(run with --help for usage\)/);
  });

  it('rejects --var 1a=b', async () => {
    const { error } = await parseError(['replay', 'x.json', '--var', 'ok=1', '--var', '1a=b']);
    assert.equal(error.code, 'commander.invalidArgument');
    assert.match(error.message, /got "1a=b"/);
  });

  it('rejects a negative --slow-mo', async () => {
    const { error } = await parseError(['replay', 'x.json', '--slow-mo', '-1']);
    assert.equal(error.code, 'commander.invalidArgument');
    assert.match(error.message, /expected --slow-mo to be a whole number ≥ 0, got "-1"/);
  });

  it('rejects an unknown --screenshots policy', async () => {
    const { error } = await parseError(['replay', 'x.json', '--screenshots', 'sometimes']);
    assert.equal(error.code, 'commander.invalidArgument');
    assert.match(error.message, /all, failure, off/);
  });

  it('rejects validate without a file', async () => {
    assert.equal((await parseError(['validate'])).error.code, 'commander.missingArgument');
  });

  it('rejects an unknown command', async () => {
    assert.equal((await parseError(['replai', 'x.json'])).error.code, 'commander.unknownCommand');
  });

  it('prints the package version for -V', async () => {
    const { error, output } = await parseError(['-V']);
    assert.equal(error.code, 'commander.version');
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(output.trim(), pkg.version);
  });

  it('writes the JSON Schema with `schema --out`', async () => {
    const { dir, cleanup } = await tempDir('schema');
    try {
      const file = join(dir, 'transaction.schema.json');
      const { program } = quietProgram();
      await program.parseAsync(['node', 'checkpoint', 'schema', '--out', file], { from: 'node' });
      assert.equal(await readFile(file, 'utf8'), transactionJsonSchemaText());
    } finally {
      await cleanup();
    }
  });
});
