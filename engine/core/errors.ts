import { blameOf, type Blame, type ErrorCode } from '../schema/error-codes.ts';

export type { Blame, ErrorCode } from '../schema/error-codes.ts';

/** The serializable shape of an error, as it appears in results. */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  blame: Blame;
}

/**
 * The one error family of the engine. Everything that crosses a layer boundary is an EngineError, so
 * callers can branch on `code` and `blame` instead of parsing messages.
 */
export class EngineError extends Error {
  readonly code: ErrorCode;
  readonly blame: Blame;

  /** `blame` defaults to the code's one blame (blameOf); a test checks that every literal pair agrees with it. */
  constructor(code: ErrorCode, message: string, blame: Blame = blameOf[code], options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.blame = blame;
  }

  toData(): ErrorData {
    return { code: this.code, message: this.message, blame: this.blame };
  }
}

/** True for EngineError instances and for their JSON form (which keeps `name`, `code` and `blame`). */
export function isEngineError(value: unknown): value is EngineError {
  return value instanceof EngineError;
}

/** Wrap anything thrown into an EngineError, keeping EngineErrors as they are. */
export function toEngineError(error: unknown, fallbackCode: ErrorCode = 'INTERNAL'): EngineError {
  if (error instanceof EngineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new EngineError(fallbackCode, message, 'engine', { cause: error });
}

/** For exhaustive switches: the compiler proves this is never reached. */
export function assertNever(value: never, what = 'value'): never {
  throw new EngineError('INTERNAL', `unexpected ${what}: ${JSON.stringify(value)}`, 'engine');
}
