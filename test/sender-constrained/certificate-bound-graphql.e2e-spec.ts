import { type INestApplication, UseGuards } from '@nestjs/common';
import { Query, Resolver } from '@nestjs/graphql';
import request from 'supertest';
import { OAuth2Guard, OAuth2Module, OAuth2Payload } from '../../lib';
import { genericResource } from '../support/guard-e2e-helpers';
import { ScriptedIntrospectionServer } from '../support/introspection-server';
import { clientCertHeader, thumbprintOf } from '../support/sender-constrained';
import { certificateAuthority, clientCertificate } from '../support/test-pki';
import { GRAPHQL_DRIVERS, graphqlModule, startGraphQLApp } from '../transports/graphql-kit';

/**
 * Certificate-bound tokens on GraphQL queries over HTTP: the guard reads the certificate of the HTTP request
 * behind the operation, here from a trusted proxy's RFC 9440 header.
 */

@Resolver()
@UseGuards(OAuth2Guard)
class WhoAmIResolver {
  @Query(() => String, { nullable: true })
  whoami(@OAuth2Payload('$.client_id') clientId: string): string {
    return clientId;
  }
}

const ca = certificateAuthority('GraphQL binding test CA');
const alice = clientCertificate(ca, 'alice');
const mallory = clientCertificate(ca, 'mallory');

describe.each(GRAPHQL_DRIVERS)('certificate-bound tokens on GraphQL (%s)', (driver) => {
  const server = new ScriptedIntrospectionServer();
  let app: INestApplication;

  beforeAll(async () => {
    const asUrl = await server.start();
    server.tokens.set('bound', { active: true, client_id: 'c1', cnf: { 'x5t#S256': thumbprintOf(alice.certPem) } });
    app = await startGraphQLApp(driver, {
      imports: [
        graphqlModule(driver, { codeFirst: true }),
        OAuth2Module.forRoot({
          resources: [genericResource('as', asUrl)],
          policy: { oauthResource: 'as', extractPayload: true },
          trustedClientCertificateHeader: 'Client-Cert',
        }),
      ],
      providers: [WhoAmIResolver],
    });
  });
  afterAll(async () => {
    await app?.close();
    await server.stop();
  });

  const query = (headers: Record<string, string>) => {
    let call = request(app.getHttpServer())
      .post('/graphql')
      .set('Authorization', 'Bearer bound')
      .send({ query: '{ whoami }' });
    for (const [name, value] of Object.entries(headers)) {
      call = call.set(name, value);
    }
    return call;
  };

  it('answers with the certificate the token is bound to', async () => {
    const response = await query({ 'Client-Cert': clientCertHeader(alice.certPem) });
    expect(response.body.data).toEqual({ whoami: 'c1' });
  });

  it('refuses the token with another certificate, or none', async () => {
    for (const headers of [{ 'Client-Cert': clientCertHeader(mallory.certPem) }, {} as Record<string, string>]) {
      const response = await query(headers);
      expect(response.body.data?.whoami ?? null).toBeNull();
      expect(JSON.stringify(response.body.errors)).toContain('OAUTH2_INVALID_ACCESS_TOKEN');
    }
  });
});
