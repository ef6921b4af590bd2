/**
 * Request bodies: a size-capped body reader and a small `multipart/form-data` parser (RFC 7578).
 *
 * The demo site must stay dependency-free, and the request form exercises file uploads, so it parses multipart
 * itself. The parser works on a fully buffered body: the reader caps it first, so memory stays bounded.
 */
import type { IncomingMessage } from 'node:http';

/** Largest request body the demo site accepts. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Most parts accepted in one multipart body, so a flood of tiny parts cannot pin the CPU. */
const MAX_PARTS = 200;

/** Thrown by {@link readBody} when the body exceeds its limit; the server answers 413. */
export class BodyTooLargeError extends Error {
  readonly limitBytes: number;
  constructor(limitBytes: number) {
    super(`Request body exceeds ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** Thrown by {@link readBody} when the client disconnects before sending the whole body. */
export class RequestAbortedError extends Error {
  constructor() {
    super('Request aborted by the client');
    this.name = 'RequestAbortedError';
  }
}

/** Thrown by {@link parseMultipart} for a malformed body; the server answers 400. */
export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

/** One uploaded file. */
export interface MultipartFile {
  readonly fieldName: string;
  /** File name as sent by the browser, reduced to its last path segment. */
  readonly fileName: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** Parsed form: text fields by name (in order, repeats kept) and files. */
export interface MultipartForm {
  readonly fields: Map<string, string[]>;
  readonly files: MultipartFile[];
}

/**
 * Reads a whole request body, rejecting with {@link BodyTooLargeError} as soon as it would exceed `limitBytes`
 * (checked against Content-Length up front, then while streaming, since Content-Length may be absent or wrong).
 */
export function readBody(req: IncomingMessage, limitBytes: number = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limitBytes) {
      reject(new BodyTooLargeError(limitBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      receivedBytes += chunk.length;
      if (receivedBytes > limitBytes) {
        fail(new BodyTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, receivedBytes));
    });
    req.once('error', fail);
    req.once('close', () => {
      if (!req.complete) fail(new RequestAbortedError());
    });
  });
}

/** Extracts the boundary from a `multipart/form-data` Content-Type, or `undefined` if it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [mediaType, ...rest] = splitHeaderParams(contentType);
  if (mediaType?.toLowerCase() !== 'multipart/form-data') return undefined;
  const boundary = parseParams(rest).get('boundary');
  // RFC 2046: 1–70 characters; anything else is more likely an attack than a browser.
  if (boundary === undefined || boundary.length < 1 || boundary.length > 70) return undefined;
  return boundary;
}

/** Parses a buffered `multipart/form-data` body. Throws {@link MultipartError} if it is malformed. */
export function parseMultipart(body: Buffer, boundary: string): MultipartForm {
  const fields = new Map<string, string[]>();
  const files: MultipartFile[] = [];
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  // Every delimiter after the first is preceded by CRLF, which belongs to the delimiter, not the part.
  const innerDelimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');

  // The first delimiter may follow a preamble, which is ignored.
  let cursor = body.indexOf(delimiter);
  if (cursor < 0) throw new MultipartError('No multipart boundary found in the body');
  cursor += delimiter.length;

  for (let partCount = 0; ; partCount++) {
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) return { fields, files }; // "--": close delimiter
    if (partCount >= MAX_PARTS) throw new MultipartError(`More than ${MAX_PARTS} parts`);
    // Transport padding (spaces/tabs) may precede the CRLF that ends a delimiter line.
    while (body[cursor] === 0x20 || body[cursor] === 0x09) cursor++;
    if (body[cursor] !== 0x0d || body[cursor + 1] !== 0x0a) throw new MultipartError('Malformed boundary line');
    const partStart = cursor + 2;
    const partEnd = body.indexOf(innerDelimiter, partStart);
    if (partEnd < 0) throw new MultipartError('Body ends before the closing boundary');
    addPart(body.subarray(partStart, partEnd), fields, files);
    cursor = partEnd + innerDelimiter.length;
  }
}

function addPart(part: Buffer, fields: Map<string, string[]>, files: MultipartFile[]): void {
  let headerText: string;
  let content: Buffer;
  if (part[0] === 0x0d && part[1] === 0x0a) {
    // No headers at all: the blank line comes first.
    headerText = '';
    content = part.subarray(2);
  } else {
    const headerEnd = part.indexOf('\r\n\r\n', 0, 'latin1');
    if (headerEnd < 0) throw new MultipartError('Part without a header terminator');
    // Browsers send header values (notably file names) as raw UTF-8.
    headerText = part.subarray(0, headerEnd).toString('utf8');
    content = part.subarray(headerEnd + 4);
  }

  const headers = new Map<string, string>();
  for (const line of headerText.split('\r\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new MultipartError('Malformed part header');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }

  const disposition = headers.get('content-disposition');
  if (disposition === undefined) throw new MultipartError('Part without Content-Disposition');
  const [kind, ...rest] = splitHeaderParams(disposition);
  if (kind?.toLowerCase() !== 'form-data') throw new MultipartError('Part is not form-data');
  const params = parseParams(rest);
  const name = params.get('name');
  if (name === undefined) throw new MultipartError('Part without a name');

  const extendedFileName = params.get('filename*');
  const fileName = extendedFileName !== undefined ? decodeExtendedValue(extendedFileName) : params.get('filename');
  if (fileName === undefined) {
    const values = fields.get(name);
    const value = content.toString('utf8');
    if (values === undefined) fields.set(name, [value]);
    else values.push(value);
    return;
  }
  files.push({
    fieldName: name,
    // Old browsers sent a full client path; only the last segment is meaningful to the server.
    fileName: fileName.split(/[\\/]/).pop() ?? '',
    contentType: headers.get('content-type') ?? 'application/octet-stream',
    // Copy so the (possibly 5 MB) request buffer is not kept alive by a small file slice.
    data: Buffer.from(content),
  });
}

/** Splits `value; a=b; c="d;e"` at semicolons outside quoted strings. */
function splitHeaderParams(header: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let inQuotes = false;
  for (let i = 0; i < header.length; i++) {
    const char = header[i];
    if (inQuotes && char === '\\' && i + 1 < header.length) {
      current += char + header[i + 1];
      i++;
      continue;
    }
    if (char === '"') inQuotes = !inQuotes;
    if (char === ';' && !inQuotes) {
      pieces.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  pieces.push(current.trim());
  return pieces;
}

/** Parses `name=value` / `name="quoted \" value"` parameters; names are lower-cased, first occurrence wins. */
function parseParams(pieces: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  for (const piece of pieces) {
    const equals = piece.indexOf('=');
    if (equals <= 0) continue;
    const name = piece.slice(0, equals).trim().toLowerCase();
    let value = piece.slice(equals + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

/** Decodes an RFC 8187 extended value such as `UTF-8''na%C3%AFve.txt`. */
function decodeExtendedValue(value: string): string {
  const match = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (match === null) return value;
  try {
    return decodeURIComponent(match[2] ?? '');
  } catch {
    return match[2] ?? '';
  }
}
