import type { Duplex } from 'node:stream';

/**
 * The text a server sends on a socket, buffered, for the line protocols a check reads itself (a TCP banner,
 * POP3, the IMAP greeting). `until` waits for the buffer to hold what a test finds, the end, or an error.
 */
export class SocketText {
  #socket: Duplex;
  #buffer = '';
  #ended = false;
  #error: Error | undefined;
  #waiter: (() => void) | undefined;
  /** Text past this many characters is dropped: a server that streams forever cannot fill the memory. */
  readonly #limitChars: number;
  readonly #onData = (chunk: Buffer) => {
    if (this.#buffer.length < this.#limitChars) this.#buffer += chunk.toString('latin1');
    this.#waiter?.();
  };
  readonly #onEnd = () => {
    this.#ended = true;
    this.#waiter?.();
  };
  readonly #onError = (error: Error) => {
    this.#error = error;
    this.#waiter?.();
  };

  constructor(socket: Duplex, limitChars = 64 * 1024) {
    this.#socket = socket;
    this.#limitChars = limitChars;
    this.#attach(socket);
  }

  #attach(socket: Duplex): void {
    socket.on('data', this.#onData);
    socket.once('end', this.#onEnd);
    socket.once('close', this.#onEnd);
    socket.on('error', this.#onError);
  }

  /** Stop reading the socket (before STARTTLS hands it to TLS) and read `next` instead. */
  switchTo(next: Duplex): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('end', this.#onEnd);
    this.#socket.off('close', this.#onEnd);
    this.#socket.off('error', this.#onError);
    this.#buffer = '';
    this.#socket = next;
    this.#attach(next);
  }

  /** Everything received and not yet taken. */
  get text(): string {
    return this.#buffer;
  }

  /**
   * Resolve with what `find` returns (the length of the text it consumed and a value) once the buffer holds it;
   * reject when the server closes or errors first. The deadline is the caller's (CheckRun.phase).
   */
  until<T>(find: (text: string) => { consumed: number; value: T } | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const look = () => {
        const found = find(this.#buffer);
        if (found !== undefined) {
          this.#buffer = this.#buffer.slice(found.consumed);
          this.#waiter = undefined;
          resolve(found.value);
        } else if (this.#error !== undefined) {
          this.#waiter = undefined;
          reject(this.#error);
        } else if (this.#ended) {
          this.#waiter = undefined;
          reject(Object.assign(new Error(`the server closed the connection${this.#buffer === '' ? '' : ` after sending "${preview(this.#buffer)}"`}`), { code: 'ERR_SOCKET_CLOSED', received: this.#buffer }));
        }
      };
      this.#waiter = look;
      look();
    });
  }

  /** The next CRLF- or LF-terminated line, without its end. */
  line(): Promise<string> {
    return this.until((text) => {
      const end = text.indexOf('\n');
      return end < 0 ? undefined : { consumed: end + 1, value: text.slice(0, end).replace(/\r$/, '') };
    });
  }

  write(text: string): void {
    this.#socket.write(text);
  }
}

/** At most 200 printable characters of what a server sent, for a message. */
export function preview(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return printable.length > 200 ? `${printable.slice(0, 200)}…` : printable;
}
