import { Controller, Get, Module, Post, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  OAuth2ConfigurationError,
  OAuth2Guard,
  OAuth2Module,
  OAuth2Policy,
  type OAuth2ModuleOptions,
  SkipOAuth2,
} from '../../lib';
import { genericResource, startupError } from '../support/guard-e2e-helpers';
import { ADAPTERS, startApp } from '../support/http-adapters';

const AS_URL = 'http://127.0.0.1:9';
/** Two resources and no module-wide oauthResource: each controller must say which one it uses. */
const OPTIONS: OAuth2ModuleOptions = {
  resources: [genericResource('orders-as', AS_URL), genericResource('partners-as', AS_URL)],
};

@Controller('orders')
class OrdersController {
  @Get()
  list() {
    return [];
  }

  @Post()
  create() {
    return {};
  }
}

@Controller('partners')
@OAuth2Policy({ oauthResource: 'partners-as' })
class PartnersController {
  @Get()
  list() {
    return [];
  }
}

@Controller('health')
@SkipOAuth2()
class HealthController {
  @Get()
  check() {
    return { status: 'ok' };
  }
}

@Controller('mixed')
class MixedController {
  @Get()
  @OAuth2Policy({ oauthResource: 'orders-as' })
  list() {
    return [];
  }

  @Get('public')
  @SkipOAuth2()
  open() {
    return {};
  }
}

@Controller('guarded')
@UseGuards(OAuth2Guard)
class GuardedByDecoratorController {
  @Get()
  list() {
    return [];
  }
}

@Module({ providers: [{ provide: APP_GUARD, useClass: OAuth2Guard }] })
class OwnGlobalBindingModule {}

function expectUncovered(error: Error, fields: string[]): void {
  expect(error).toBeInstanceOf(OAuth2ConfigurationError);
  for (const field of fields) {
    expect(error.message).toContain(`${field} is guarded by the global OAuth2Guard, but no oauthResource applies`);
  }
  expect(error.message).toMatch(/Set policy\.oauthResource, add @OAuth2Policy\(\{ oauthResource: '\.\.\.' \}\)/);
  expect(error.message).toContain('@SkipOAuth2()');
}

describe.each(ADAPTERS)('a globally guarded controller with no oauthResource on %s', (adapter) => {
  it('forRoot({ global: true }) fails the start, naming Controller.handler', async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRoot({ ...OPTIONS, global: true })],
      controllers: [OrdersController, PartnersController, HealthController],
    });
    expectUncovered(error, ['OrdersController.list', 'OrdersController.create']);
    expect(error.message).not.toContain('PartnersController');
    expect(error.message).not.toContain('HealthController');
  });

  it('forRootAsync({ global: true }) fails the start the same way', async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRootAsync({ global: true, useFactory: async () => OPTIONS })],
      controllers: [OrdersController],
    });
    expectUncovered(error, ['OrdersController.list']);
  });

  it("the application's own APP_GUARD binding fails the start the same way", async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRoot(OPTIONS), OwnGlobalBindingModule],
      controllers: [OrdersController],
    });
    expectUncovered(error, ['OrdersController.list']);
  });

  it.each([
    ['every controller has an oauthResource or @SkipOAuth2()', OPTIONS, [PartnersController, HealthController]],
    ['the policy names a resource', { ...OPTIONS, policy: { oauthResource: 'orders-as' } }, [OrdersController]],
    [
      'the policy has a selector function',
      { ...OPTIONS, policy: { oauthResource: () => 'orders-as' } },
      [OrdersController],
    ],
    // A method without a resource beside one with it may be a helper, not a route: not judged.
    ['a controller covers some of its methods', OPTIONS, [MixedController]],
  ])('starts when %s', async (_title, options, controllers) => {
    const app = await startApp(adapter, {
      imports: [OAuth2Module.forRoot({ ...options, global: true })],
      controllers,
    });
    await app.close();
  });

  it('starts without global: true (routes under @UseGuards(OAuth2Guard) are not judged)', async () => {
    const app = await startApp(adapter, {
      imports: [OAuth2Module.forRoot(OPTIONS)],
      controllers: [OrdersController, GuardedByDecoratorController],
    });
    await app.close();
  });
});
