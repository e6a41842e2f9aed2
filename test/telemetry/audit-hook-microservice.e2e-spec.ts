import { Controller, type INestMicroservice, UseGuards } from '@nestjs/common';
import { type ClientProxy, MessagePattern } from '@nestjs/microservices';
import { createHash } from 'node:crypto';
import { type OAuth2Decision, OAuth2ErrorKey, OAuth2Guard, OAuth2Module } from '../../lib';
import { genericResource } from '../support/guard-e2e-helpers';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { ClientTracker, sendAndSettle, startTcpMicroservice, tcpClient } from '../transports/transport-kit';

/**
 * Issue 15, item 6, beyond HTTP: the `onDecision` audit hook sees the decisions of the guard on a
 * microservice's messages too (a real TCP microservice and client), with the `rpc` context.
 */

@Controller()
@UseGuards(OAuth2Guard)
class AuditedMessages {
  @MessagePattern('whoami')
  whoami() {
    return { ok: true };
  }
}

const fingerprint = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 8);

describe('the onDecision audit hook on a TCP microservice', () => {
  const server = new ScriptedIntrospectionServer();
  const clients = new ClientTracker();
  const decisions: OAuth2Decision[] = [];
  let microservice: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    const url = await server.start();
    server.tokens.set('rpc-good-token', { active: true, client_id: 'rpc-client' });
    let port: number;
    ({ microservice, port } = await startTcpMicroservice({
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', url)],
          policy: { oauthResource: 'as' },
          onDecision: (decision) => void decisions.push(decision),
        }),
      ],
      controllers: [AuditedMessages],
    }));
    client = clients.proxy(tcpClient(port));
    await client.connect();
  });

  afterAll(async () => {
    await clients.closeAll();
    await microservice?.close();
    await server.stop();
  });

  it('reports allowed and rejected messages, with the rpc context and never the token', async () => {
    await expect(sendAndSettle(client, 'whoami', { authorization: 'Bearer rpc-good-token' })).resolves.toEqual({
      answer: { ok: true },
    });
    expect((await sendAndSettle(client, 'whoami', { authorization: 'Bearer rpc-bad-token' })).error).toBeDefined();
    expect((await sendAndSettle(client, 'whoami', {})).error).toBeDefined();

    expect(decisions.map(({ context: _context, ...rest }) => rest)).toEqual([
      { allowed: true, resource: 'as', clientId: 'rpc-client', tokenFingerprint: fingerprint('rpc-good-token') },
      {
        allowed: false,
        key: OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN,
        resource: 'as',
        tokenFingerprint: fingerprint('rpc-bad-token'),
      },
      { allowed: false, key: OAuth2ErrorKey.OAUTH2_MISSING_HEADER },
    ]);
    expect(decisions.map((decision) => decision.context.getType())).toEqual(['rpc', 'rpc', 'rpc']);
  });
});
