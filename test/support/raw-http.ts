import { connect } from 'node:net';

/** An HTTP answer read off a raw socket. */
export interface RawResponse {
  readonly status: number;
  /** Header names lower-cased; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * Sends one HTTP/1.1 GET over a fresh TCP connection to 127.0.0.1 with header lines given as raw bytes,
 * so that a test can send what an HTTP client library refuses to (control characters, bytes above
 * 0x7F, several `Authorization` lines, oversized values). Reads the answer until the server closes
 * the connection (`Connection: close`), bounded in time and size.
 */
export function rawGet(
  port: number,
  path: string,
  headerLines: readonly Buffer[],
  timeoutMs = 5000,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let received = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      const lines: Buffer[] = [
        Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`, 'latin1'),
      ];
      for (const line of headerLines) {
        lines.push(line, Buffer.from('\r\n', 'latin1'));
      }
      lines.push(Buffer.from('\r\n', 'latin1'));
      // Not end(): a half-closed connection may be dropped before the (asynchronous) answer is written.
      socket.write(Buffer.concat(lines));
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_RESPONSE_BYTES) {
        socket.destroy(new Error('answer too large'));
        return;
      }
      chunks.push(chunk);
    });
    // A server may reset after answering a request it refuses: what was read still counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const parsed = parse(text);
      if (parsed) {
        resolve(parsed);
      } else {
        reject(new Error(`not an HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      }
    });
  });
}

/** An `Authorization` header line, its value given as bytes. */
export function authorizationLine(value: Buffer): Buffer {
  return Buffer.concat([Buffer.from('Authorization: ', 'latin1'), value]);
}

function parse(text: string): RawResponse | undefined {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine, ...headerLines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '');
  if (!match) {
    return undefined;
  }
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
  }
  let body = end < 0 ? '' : text.slice(end + 4);
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    body = unchunk(body);
  }
  return { status: Number(match[1]), headers, body };
}

function unchunk(body: string): string {
  let result = '';
  let rest = body;
  for (let guard = 0; guard < 10_000; guard += 1) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) {
      break;
    }
    result += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
  return result;
}
