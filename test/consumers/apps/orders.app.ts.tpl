// The application every consumer app runs, compiled to ES modules or CommonJS by the app's own tsconfig.
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { OAuth2Guard, OAuth2Module, RequiredScopes } from 'nestjs-oauth2-policy';
import { OAuth2TestingServer } from 'nestjs-oauth2-policy/testing';

@Controller('orders')
@UseGuards(OAuth2Guard)
class OrdersController {
  @Get()
  @RequiredScopes('orders:read')
  list() {
    return { orders: [] };
  }
}

@Module({
  imports: [
    OAuth2Module.forRoot({
      resources: [
        {
          name: 'as',
          type: 'generic',
          introspectionEndpoint: environment('INTROSPECTION_URL'),
          clientId: 'orders-api',
          clientSecret: 'secret',
        },
      ],
      policy: { oauthResource: 'as' },
    }),
  ],
  controllers: [OrdersController],
})
class AppModule {}

/**
 * Starts the application on 127.0.0.1 (a port the system picks), on the platform HTTP_ADAPTER names, and prints one
 * JSON line: its URL, the Node.js version, whether the ./testing subpath loaded, and `facts`. It then runs until it is
 * killed.
 */
export async function start(facts: Record<string, unknown>): Promise<void> {
  const adapter = environment('HTTP_ADAPTER');
  if (adapter !== 'express' && adapter !== 'fastify') {
    throw new Error(`HTTP_ADAPTER must be express or fastify, not '${adapter}'`);
  }
  const app = await NestFactory.create(AppModule, adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter(), {
    logger: ['error', 'warn'],
  });
  await app.listen(0, '127.0.0.1');
  // The ./testing subpath resolves, for the compiler and at run time, in every module setting.
  const testing = typeof OAuth2TestingServer.start;
  console.log(JSON.stringify({ url: await app.getUrl(), node: process.version, testing, ...facts }));
}

function environment(name: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new Error(`${name} is not set`);
  }
  return value;
}
