import { Controller, Injectable } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { OAuth2Module, OAuth2Policy } from '../../lib';
import { genericResource, startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';

/**
 * `@OAuth2Policy()` names are checked at start-up wherever the guard can run: on controllers (HTTP
 * routes, microservice handlers) and on providers (GraphQL resolvers, WebSocket gateways), so that a typo
 * fails the start instead of rejecting every call with OAUTH2_MISSING_SERVER.
 */
@WebSocketGateway()
class TypoGateway {
  @SubscribeMessage('orders')
  @OAuth2Policy({ oauthResource: 'as-typo' })
  orders() {
    return [];
  }
}

@Injectable()
@OAuth2Policy({ oauthCacheResource: 'no-such-cache' })
class TypoResolverLike {
  orders() {
    return [];
  }
}

@Controller()
class TypoHandlers {
  @MessagePattern('orders.list')
  @OAuth2Policy({ oauthResource: 'as-typo' })
  list() {
    return [];
  }
}

@Injectable()
@OAuth2Policy({ oauthResource: 'as' })
class WellNamedProvider {}

const URL = 'http://127.0.0.1:9/introspect';

describe.each(ADAPTERS)('@OAuth2Policy() names on providers and non-HTTP handlers, on %s', (adapter) => {
  const module = () =>
    OAuth2Module.forRoot({ resources: [genericResource('as', URL)], policy: { oauthResource: 'as' } });

  it('refuses to start with an unregistered resource in a gateway, naming the class and the method', async () => {
    const error = await startupError(adapter, { imports: [module()], providers: [TypoGateway] });
    expect(error.message).toContain('@OAuth2Policy() of TypoGateway.orders.oauthResource');
    expect(error.message).toContain("'as-typo'");
  });

  it('refuses to start with an unregistered cache on a provider class', async () => {
    const error = await startupError(adapter, { imports: [module()], providers: [TypoResolverLike] });
    expect(error.message).toContain('@OAuth2Policy() of TypoResolverLike.oauthCacheResource');
  });

  it('refuses to start with an unregistered resource on a microservice handler', async () => {
    const error = await startupError(adapter, { imports: [module()], controllers: [TypoHandlers] });
    expect(error.message).toContain('@OAuth2Policy() of TypoHandlers.list.oauthResource');
  });

  it('starts when the names are registered, with value and factory providers beside them', async () => {
    const app = await startApp(adapter, {
      imports: [module()],
      providers: [
        WellNamedProvider,
        { provide: 'VALUE', useValue: { orders: () => [] } },
        { provide: 'FACTORY', useFactory: () => ({ ok: true }) },
      ],
      controllers: [],
    });
    await app.close();
  });
});
