import {
  Controller,
  Get,
  type INestApplication,
  Injectable,
  type ModuleMetadata,
  Post,
  UseGuards,
} from '@nestjs/common';
import fc from 'fast-check';
import request from 'supertest';
import {
  OAuth2ConfigurationError,
  OAuth2Guard,
  OAuth2Module,
  type OAuth2ModuleOptions,
  OAuth2Policy,
  RequiredScopes,
  SkipOAuth2,
} from '../../lib';
import { genericResource, startupError } from '../support/guard-e2e-helpers';
import { type AdapterName, startApp } from '../support/http-adapters';
import { ScriptedIntrospectionServer } from '../support/introspection-server';

/**
 * Issue 12, point 8, property-based: mistakes that used to pass the start now stop it. For arbitrary
 * applications (oauthResource as a name, a function, an async function or nothing, on the module, the
 * controllers and the handlers; @SkipOAuth2() on controllers and handlers; the guard global, on a
 * controller or on a handler, or a subclass of it; helper methods beside the routes; @RequiredScopes()
 * with or without scopes), the application starts if and only if the model says every guarded route
 * has a resource and no decorator or option is refused; and when it starts, every route answers 200 to
 * an active token (never OAUTH2_MISSING_SERVER, never a 500).
 */

type ResourceSpec = 'none' | 'name' | 'function' | 'async-function';
type GuardSpec = 'none' | 'guard' | 'subclass';

interface HandlerSpec {
  resource: ResourceSpec;
  skip: boolean;
  guard: GuardSpec;
  scopes: string[] | undefined;
}

interface ControllerSpec {
  resource: ResourceSpec;
  skip: boolean;
  guard: GuardSpec;
  handlers: HandlerSpec[];
  /** A method without @Get()/@Post(): never a route, never judged. */
  helper: boolean;
}

interface AppSpec {
  global: boolean;
  resource: ResourceSpec;
  controllers: ControllerSpec[];
}

/** An application's own guard, built on OAuth2Guard. */
@Injectable()
class TenantGuard extends OAuth2Guard {}

/** Mostly names, functions or nothing; now and then an async function (which must stop the start). */
const resourceSpec = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom<ResourceSpec>('none', 'none', 'name', 'function') },
  { weight: 1, arbitrary: fc.constant<ResourceSpec>('async-function') },
);
const guardSpec = fc.constantFrom<GuardSpec>('none', 'none', 'guard', 'subclass');
const handlerSpec: fc.Arbitrary<HandlerSpec> = fc.record({
  resource: resourceSpec,
  skip: fc.boolean(),
  guard: guardSpec,
  scopes: fc.oneof(
    { weight: 12, arbitrary: fc.constant(undefined) },
    { weight: 6, arbitrary: fc.array(fc.constantFrom('read', 'write'), { minLength: 1, maxLength: 2 }) },
    { weight: 1, arbitrary: fc.constant<string[]>([]) },
  ),
});
const appSpec: fc.Arbitrary<AppSpec> = fc.record({
  global: fc.boolean(),
  resource: fc.oneof(
    { weight: 3, arbitrary: fc.constant<ResourceSpec>('none') },
    { weight: 1, arbitrary: resourceSpec },
  ),
  controllers: fc.array(
    fc.record({
      resource: resourceSpec,
      skip: fc.constantFrom(false, false, false, true),
      guard: guardSpec,
      handlers: fc.array(handlerSpec, { minLength: 1, maxLength: 3 }),
      helper: fc.boolean(),
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

/** The model: what the documentation says must happen, decided without the library. */
function modelStarts(spec: AppSpec): boolean {
  const levels = [
    spec.resource,
    ...spec.controllers.flatMap((c) => [c.resource, ...c.handlers.map((h) => h.resource)]),
  ];
  if (levels.includes('async-function')) {
    return false;
  }
  if (spec.controllers.some((c) => c.handlers.some((h) => h.scopes !== undefined && h.scopes.length === 0))) {
    return false;
  }
  return spec.controllers.every((c) =>
    c.handlers.every((h) => {
      const guarded = spec.global || c.guard !== 'none' || h.guard !== 'none';
      const covered = spec.resource !== 'none' || c.resource !== 'none' || h.resource !== 'none' || c.skip || h.skip;
      return !guarded || covered;
    }),
  );
}

function oauthResource(spec: ResourceSpec): OAuth2ModuleOptions['policy'] {
  switch (spec) {
    case 'none':
      return {};
    case 'name':
      return { oauthResource: 'as' };
    case 'function':
      return { oauthResource: () => 'as' };
    case 'async-function':
      return { oauthResource: (async () => 'as') as never };
  }
}

function guardDecorators(spec: GuardSpec): Array<ClassDecorator & MethodDecorator> {
  return spec === 'none' ? [] : [UseGuards(spec === 'guard' ? OAuth2Guard : TenantGuard)];
}

/** Builds the controller classes of a spec, as decorators would; throws where a decorator refuses. */
function buildControllers(spec: AppSpec, run: number): Array<new () => object> {
  return spec.controllers.map((controllerSpec, index) => {
    const controller = class {} as new () => object;
    Object.defineProperty(controller, 'name', { value: `Run${run}Controller${index}` });
    const prototype = controller.prototype as Record<string, unknown>;
    controllerSpec.handlers.forEach((handlerSpec, position) => {
      const method = `route${position}`;
      prototype[method] = function route() {
        return { ok: true };
      };
      const decorators: MethodDecorator[] = [
        position % 2 === 0 ? Get(method) : Post(method),
        ...guardDecorators(handlerSpec.guard),
      ];
      if (handlerSpec.resource !== 'none') {
        decorators.push(OAuth2Policy(oauthResource(handlerSpec.resource)!));
      }
      if (handlerSpec.skip) {
        decorators.push(SkipOAuth2());
      }
      if (handlerSpec.scopes !== undefined) {
        decorators.push(RequiredScopes(...handlerSpec.scopes));
      }
      Reflect.decorate(decorators, prototype, method, Object.getOwnPropertyDescriptor(prototype, method));
    });
    if (controllerSpec.helper) {
      prototype.helper = function helper() {
        return [];
      };
    }
    const decorators: ClassDecorator[] = [Controller(`c${index}`), ...guardDecorators(controllerSpec.guard)];
    if (controllerSpec.resource !== 'none') {
      decorators.push(OAuth2Policy(oauthResource(controllerSpec.resource)!));
    }
    if (controllerSpec.skip) {
      decorators.push(SkipOAuth2());
    }
    return Reflect.decorate(decorators, controller) as new () => object;
  });
}

function routesOf(spec: AppSpec): Array<[method: 'get' | 'post', path: string]> {
  return spec.controllers.flatMap((controllerSpec, index) =>
    controllerSpec.handlers.map(
      (_handler, position) =>
        [position % 2 === 0 ? 'get' : 'post', `/c${index}/route${position}`] as ['get' | 'post', string],
    ),
  );
}

describe.each<AdapterName>(['express', 'fastify'])('route coverage at start-up, property-based, on %s', (adapter) => {
  const server = new ScriptedIntrospectionServer();
  let url: string;

  beforeAll(async () => {
    url = await server.start();
    server.script = () => ({ status: 200, body: { active: true, scope: 'read write' } });
  });
  afterAll(() => server.stop());

  it('starts if and only if every guarded route has a resource, and then every route answers 200', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(appSpec, async (spec) => {
        run += 1;
        const starts = modelStarts(spec);
        let metadata: ModuleMetadata;
        try {
          const controllers = buildControllers(spec, run);
          const options: Parameters<typeof OAuth2Module.forRoot>[0] = {
            resources: [genericResource('as', url)],
            policy: oauthResource(spec.resource),
            global: spec.global,
          };
          metadata = { imports: [OAuth2Module.forRoot(options)], controllers };
        } catch (error) {
          // A decorator refused when applied (an async selector, @RequiredScopes() with no scope), or forRoot().
          expect(error).toBeInstanceOf(OAuth2ConfigurationError);
          expect(starts).toBe(false);
          return;
        }
        if (!starts) {
          const error = await startupError(adapter, metadata);
          expect(error).toBeInstanceOf(OAuth2ConfigurationError);
          return;
        }
        const app: INestApplication = await startApp(adapter, metadata);
        try {
          for (const [method, path] of routesOf(spec)) {
            const response = await request(app.getHttpServer())[method](path).set('Authorization', 'Bearer good');
            expect([path, response.status, response.body.key]).toEqual([path, method === 'get' ? 200 : 201, undefined]);
          }
        } finally {
          await app.close();
        }
      }),
      { numRuns: 50 },
    );
  });
});
