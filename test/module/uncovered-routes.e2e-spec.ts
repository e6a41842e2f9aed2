import { Controller, Get, Injectable, Module, Post, UseGuards } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MessagePattern } from '@nestjs/microservices';
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

  @Post()
  create() {
    return {};
  }
}

@Controller('guarded-handler')
class GuardedHandlerController {
  @Get()
  @UseGuards(OAuth2Guard)
  guarded() {
    return [];
  }

  @Get('covered')
  @UseGuards(OAuth2Guard)
  @OAuth2Policy({ oauthResource: 'orders-as' })
  covered() {
    return [];
  }

  @Get('unguarded')
  unguarded() {
    return [];
  }
}

/** An application's own guard, built on OAuth2Guard. */
@Injectable()
class TenantGuard extends OAuth2Guard {}

@Controller('subclass')
@UseGuards(TenantGuard)
class SubclassGuardedController {
  @Get()
  list() {
    return [];
  }
}

@Controller('partly')
class PartlyCoveredController {
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

  @Post()
  forgotten() {
    return {};
  }
}

@Controller('guarded-partly')
@UseGuards(OAuth2Guard)
class GuardedPartlyCoveredController extends PartlyCoveredController {}

@Controller('helpers')
class HelperMethodsController {
  @Get()
  @OAuth2Policy({ oauthResource: 'orders-as' })
  list() {
    return this.helper();
  }

  /** Not a route: never reached by a request, so never judged. */
  helper() {
    return [];
  }

  /** A handler of another transport: not judged by this check. */
  @MessagePattern('orders.list')
  onMessage() {
    return [];
  }
}

@Controller('guarded-helpers')
@UseGuards(OAuth2Guard)
class GuardedHelperController extends HelperMethodsController {}

@Controller('guarded-covered')
@UseGuards(OAuth2Guard)
@OAuth2Policy({ oauthResource: 'partners-as' })
class GuardedCoveredController {
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

  it('fails the start where a route is left uncovered in a controller that covers others, naming that route only', async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRoot({ ...OPTIONS, global: true })],
      controllers: [PartlyCoveredController],
    });
    expectUncovered(error, ['PartlyCoveredController.forgotten']);
    expect(error.message).not.toContain('PartlyCoveredController.list');
    expect(error.message).not.toContain('PartlyCoveredController.open');
  });

  it('ignores methods that are not HTTP routes: helpers and message handlers', async () => {
    const app = await startApp(adapter, {
      imports: [OAuth2Module.forRoot({ ...OPTIONS, global: true })],
      controllers: [HelperMethodsController],
    });
    await app.close();
  });
});

describe.each(ADAPTERS)('a route under @UseGuards(OAuth2Guard) with no oauthResource on %s', (adapter) => {
  function expectUncoveredBy(error: Error, fields: string[], where: 'the handler' | 'its controller'): void {
    expect(error).toBeInstanceOf(OAuth2ConfigurationError);
    for (const field of fields) {
      expect(error.message).toContain(
        `${field} is guarded by @UseGuards(OAuth2Guard) on ${where}, but no oauthResource applies`,
      );
    }
    expect(error.message).toMatch(/Set policy\.oauthResource, add @OAuth2Policy\(\{ oauthResource: '\.\.\.' \}\)/);
    expect(error.message).toContain('@SkipOAuth2()');
  }

  it('on the controller fails the start, naming each route', async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRoot(OPTIONS)],
      controllers: [GuardedByDecoratorController, OrdersController],
    });
    expectUncoveredBy(
      error,
      ['GuardedByDecoratorController.list', 'GuardedByDecoratorController.create'],
      'its controller',
    );
    // Not guarded at all: the guard never runs there, so nothing to judge.
    expect(error.message).not.toContain('OrdersController');
  });

  it('on a handler fails the start, naming that handler only', async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRoot(OPTIONS)],
      controllers: [GuardedHandlerController],
    });
    expectUncoveredBy(error, ['GuardedHandlerController.guarded'], 'the handler');
    expect(error.message).not.toContain('GuardedHandlerController.unguarded');
    expect(error.message).not.toContain('GuardedHandlerController.covered');
  });

  it('with a subclass of OAuth2Guard fails the start too', async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRoot(OPTIONS)],
      controllers: [SubclassGuardedController],
    });
    expectUncoveredBy(error, ['SubclassGuardedController.list'], 'its controller');
  });

  it('in a controller that covers some routes fails the start, naming the uncovered one', async () => {
    const error = await startupError(adapter, {
      imports: [OAuth2Module.forRoot(OPTIONS)],
      controllers: [GuardedPartlyCoveredController],
    });
    expectUncoveredBy(error, ['GuardedPartlyCoveredController.forgotten'], 'its controller');
    expect(error.message).not.toContain('GuardedPartlyCoveredController.list');
    expect(error.message).not.toContain('GuardedPartlyCoveredController.open');
  });

  it.each([
    ['every guarded route is covered, helpers and message handlers aside', OPTIONS, [GuardedHelperController]],
    ['the controller names a resource', OPTIONS, [GuardedCoveredController]],
    [
      'the policy names a resource',
      { ...OPTIONS, policy: { oauthResource: 'orders-as' } },
      [GuardedByDecoratorController],
    ],
    ['no route is guarded', OPTIONS, [OrdersController]],
  ])('starts when %s', async (_title, options, controllers) => {
    const app = await startApp(adapter, { imports: [OAuth2Module.forRoot(options)], controllers });
    await app.close();
  });
});

/**
 * The explorer reads Nest's own metadata keys as string literals (not every major exports them
 * publicly): if Nest renamed one, this fails on that major, beside the behaviour tests above.
 */
describe("Nest's metadata keys the start-up check reads", () => {
  it("are '__guards__' for @UseGuards(), 'path' and 'method' for @Get(), 'microservices:pattern' for @MessagePattern()", () => {
    const handlers = HelperMethodsController.prototype;
    expect(Reflect.getMetadataKeys(GuardedHandlerController.prototype.guarded)).toEqual(
      expect.arrayContaining(['__guards__', 'path', 'method']),
    );
    expect(Reflect.getMetadataKeys(handlers.helper)).toEqual([]);
    expect(Reflect.getMetadataKeys(handlers.onMessage)).toContain('microservices:pattern');
    expect(Reflect.getMetadataKeys(handlers.onMessage)).not.toContain('method');
  });
});
