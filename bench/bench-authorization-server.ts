/**
 * The benchmark's authorization server, in its own process: answers RFC 7662 introspection at once
 * (no artificial delay), counting the calls. Tokens starting with `inactive-` are inactive.
 *
 * GET /stats → { introspections }; POST /reset sets the count to 0. Prints `READY <port>`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let introspections = 0;

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ introspections }));
    return;
  }
  if (request.method === 'POST' && request.url === '/reset') {
    introspections = 0;
    response.writeHead(204).end();
    return;
  }
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    introspections += 1;
    const token = new URLSearchParams(body).get('token') ?? '';
    const payload = token.startsWith('inactive-')
      ? { active: false }
      : {
          active: true,
          client_id: 'bench-client',
          sub: 'bench-user',
          scope: 'orders:read orders:write',
          exp: Math.floor(Date.now() / 1000) + 3600,
        };
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(payload));
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`READY ${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
