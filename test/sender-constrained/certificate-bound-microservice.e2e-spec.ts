import { Controller, type INestMicroservice, UseGuards } from '@nestjs/common';
import { type ClientProxy, MessagePattern } from '@nestjs/microservices';
import { OAuth2Guard, OAuth2Module, OAuth2Payload, OAuth2Policy } from '../../lib';
import { SPEC_ERRORS } from '../support/e2e-kit';
import { genericResource } from '../support/guard-e2e-helpers';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { ClientTracker, sendAndSettle, startTcpMicroservice, tcpClient } from '../transports/transport-kit';

/**
 * Certificate-bound tokens outside HTTP: a microservice message carries no client certificate, so a
 * bound token is refused there (as it is on a WebSocket gateway, which goes through the same check),
 * while an unbound one passes unless the handler requires binding.
 */

@Controller()
@UseGuards(OAuth2Guard)
class OrdersMessages {
  @MessagePattern('whoami')
  whoami(@OAuth2Payload('$.client_id') clientId: unknown) {
    return { clientId };
  }

  @MessagePattern('strict')
  @OAuth2Policy({ requireCertificateBinding: true })
  strict(@OAuth2Payload('$.client_id') clientId: unknown) {
    return { clientId };
  }
}

const refused = {
  error: {
    key: 'OAUTH2_INVALID_ACCESS_TOKEN',
    statusCode: SPEC_ERRORS.OAUTH2_INVALID_ACCESS_TOKEN.status,
    message: SPEC_ERRORS.OAUTH2_INVALID_ACCESS_TOKEN.message,
  },
};

describe('certificate-bound tokens on a TCP microservice', () => {
  const server = new ScriptedIntrospectionServer();
  const clients = new ClientTracker();
  let microservice: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    const asUrl = await server.start();
    server.tokens.set('bound', { active: true, client_id: 'c1', cnf: { 'x5t#S256': 'A'.repeat(43) } });
    server.tokens.set('plain', { active: true, client_id: 'c2' });
    let port: number;
    ({ microservice, port } = await startTcpMicroservice({
      imports: [
        OAuth2Module.forRoot({
          resources: [genericResource('as', asUrl)],
          policy: { oauthResource: 'as', extractPayload: true },
        }),
      ],
      controllers: [OrdersMessages],
    }));
    client = clients.proxy(tcpClient(port));
    await client.connect();
  });
  afterAll(async () => {
    await clients.closeAll();
    await microservice?.close();
    await server.stop();
  });

  it('refuses a bound token: a message has no certificate to prove the binding with', async () => {
    await expect(sendAndSettle(client, 'whoami', { authorization: 'Bearer bound' })).resolves.toEqual(refused);
  });

  it('lets an unbound token through, except where binding is required', async () => {
    await expect(sendAndSettle(client, 'whoami', { authorization: 'Bearer plain' })).resolves.toEqual({
      answer: { clientId: 'c2' },
    });
    await expect(sendAndSettle(client, 'strict', { authorization: 'Bearer plain' })).resolves.toEqual(refused);
  });
});
