/** One line per event; the caller decides where it goes (stderr by default, a collector in tests). */
export type Log = (line: string) => void;

/** Lines on stderr, each prefixed with an ISO timestamp. */
export function stderrLog(now: () => Date = () => new Date()): Log {
  return (line) => void process.stderr.write(`${now().toISOString()} ${line}\n`);
}
