import { checkScriptPlaceholders, isBrowserScript, kindOf, stepNamesOf } from '../engine/index.ts';
import { formatProblems, loadScriptFile } from './load-script.ts';
import { exitCodes } from './exit-codes.ts';

/**
 * `checkpoint validate <script>…`: every problem as `file: path: message`; exit 2 if any file has one.
 * A variable without a default is only a warning: it may legitimately come from `--var` at replay time.
 */
export async function validate(files: readonly string[], io: { stdout: (t: string) => void; stderr: (t: string) => void }): Promise<number> {
  let bad = 0;
  for (const file of files) {
    const loaded = await loadScriptFile(file);
    if (!loaded.ok) {
      bad++;
      io.stderr(`${formatProblems(file, loaded.problems)}\n`);
      continue;
    }
    const { script } = loaded;
    const steps = stepNamesOf(script).length;
    // A browser transaction says only its steps, as before; other kinds say their kind too.
    io.stdout(`${file}: ok (${isBrowserScript(script) ? '' : `${kindOf(script)}, `}${steps} steps)\n`);
    const report = checkScriptPlaceholders(script, {});
    for (const warning of report.problems) {
      io.stderr(`${file}: ${warning.path}: warning: ${warning.message}\n`);
    }
  }
  return bad > 0 ? exitCodes.badInput : exitCodes.passed;
}
