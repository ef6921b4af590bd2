import { EngineError } from '../../core/errors.ts';
import type { ExtractSpec } from '../../schema/checks/api.ts';
import { asText, readHeader, readJsonPath, readRegex, type ResponseView } from './response-view.ts';

/**
 * Take the step's extracted values from its response. Throws EXTRACTION_FAILED (blame site: the response is not
 * what the monitor expects) naming the first value that could not be found.
 */
export function extractValues(specs: readonly ExtractSpec[], view: ResponseView, where: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const [index, spec] of specs.entries()) {
    const lookup = spec.from === 'json' ? readJsonPath(view, spec.path) : spec.from === 'header' ? readHeader(view, spec.header) : readRegex(view, spec.pattern);
    if (!lookup.found) throw new EngineError('EXTRACTION_FAILED', `${where}.extract[${index}]: could not extract "${spec.name}": ${lookup.why}`);
    values.set(spec.name, asText(lookup.value));
  }
  return values;
}
