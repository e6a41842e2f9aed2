import type { INestApplicationContext } from '@nestjs/common';
import type { OpenAPIObject, SchemaObject, SecuritySchemeObject } from '@nestjs/swagger';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import { type GuardedRoute, findGuardedRoutes } from './guarded-routes';
import { OAUTH2_ERROR_SCHEMA } from './oauth2-error.schema';
import type { OAuth2OpenApiOptions } from './oauth2-openapi.options';
import { NEST_METHOD_METADATA } from '../guards/guard-bindings';

/** What `SwaggerModule.createDocument()` takes: a `DocumentBuilder`'s `build()`. */
export type OpenApiConfig = Omit<OpenAPIObject, 'paths'>;

/*
 * @nestjs/swagger's metadata keys (its exported DECORATORS.API_SECURITY and .API_RESPONSE), written
 * out so that this file loads nothing from the optional package; test/openapi/openapi.e2e-spec.ts
 * checks them on both majors. Nest's HTTP_CODE_METADATA likewise.
 */
const SWAGGER_API_SECURITY = 'swagger/apiSecurity';
const SWAGGER_API_RESPONSE = 'swagger/apiResponse';
const NEST_HTTP_CODE_METADATA = '__httpCode__';
const NEST_REQUEST_METHOD_POST = 1;
/**
 * A documented handler's own Swagger metadata, as it was before the first call: each call starts from
 * it, so that a second call (another scheme name, say) replaces the first one's additions.
 */
const ORIGINAL_METADATA = 'oauth2:openapi-original';

interface OriginalSwaggerMetadata {
  readonly security?: unknown[];
  readonly responses?: Record<string, unknown>;
}

/**
 * Documents the application's OAuth2 protection in its OpenAPI document: declares the security scheme
 * (and the error body's schema) in the returned configuration, and gives each HTTP route the guard
 * checks its `security` requirement (the scopes of `@RequiredScopes()`, an empty alternative `{}`
 * under `@OptionalOAuth2()`) and its 401 and, where scopes are required, 403 answers. Routes under
 * `@SkipOAuth2()` and routes the guard does not cover are left alone. Call it before
 * `SwaggerModule.createDocument()`, on an application that imports `OAuth2Module`. It loads nothing
 * from `@nestjs/swagger`; the application installs it to build the document.
 *
 * @example
 * const config = new DocumentBuilder().setTitle('Orders').build();
 * const document = SwaggerModule.createDocument(
 *   app,
 *   applyOAuth2OpenApi(app, config, { tokenUrl: 'https://auth.example.com/oauth/token' }),
 * );
 * @throws OAuth2ConfigurationError when an OAuth2 scheme has neither `tokenUrl` nor `flows`, or the
 *   application does not import `OAuth2Module`.
 */
export function applyOAuth2OpenApi<T extends OpenApiConfig>(
  app: INestApplicationContext,
  config: T,
  options: OAuth2OpenApiOptions = {},
): T {
  const schemeName = options.schemeName ?? 'oauth2';
  const errorSchemaName = options.errorSchemaName ?? 'OAuth2Error';
  const routes = findGuardedRoutes(app);
  const scheme = securityScheme(options, routes);
  for (const route of routes) {
    documentRoute(route, options.type === 'bearer' ? [] : route.scopes, schemeName, errorSchemaName);
  }
  return {
    ...config,
    components: {
      ...config.components,
      securitySchemes: { ...config.components?.securitySchemes, [schemeName]: scheme },
      schemas: { ...config.components?.schemas, [errorSchemaName]: OAUTH2_ERROR_SCHEMA },
    },
  };
}

function securityScheme(options: OAuth2OpenApiOptions, routes: readonly GuardedRoute[]): SecuritySchemeObject {
  const description = options.description === undefined ? {} : { description: options.description };
  if (options.type === 'bearer') {
    return { type: 'http', scheme: 'bearer', ...description };
  }
  if (options.flows === undefined && options.tokenUrl === undefined) {
    throw new OAuth2ConfigurationError(
      'applyOAuth2OpenApi() options',
      "need the token endpoint of the OAuth2 scheme: set tokenUrl (a client-credentials flow) or flows, or type: 'bearer'.",
    );
  }
  const flows = options.flows ?? { clientCredentials: { tokenUrl: options.tokenUrl, scopes: {} } };
  const scopes = [...new Set(routes.flatMap((route) => route.scopes))].sort();
  const described = Object.fromEntries(scopes.map((scope) => [scope, options.scopeDescriptions?.[scope] ?? scope]));
  const withScopes = Object.fromEntries(
    Object.entries(flows).map(([name, flow]) => [name, { ...flow, scopes: { ...described, ...flow?.scopes } }]),
  );
  return { type: 'oauth2', flows: withScopes, ...description };
}

function documentRoute(
  route: GuardedRoute,
  scopes: readonly string[],
  schemeName: string,
  errorSchemaName: string,
): void {
  const { handler } = route;
  const original = originalMetadata(handler);
  const security: Array<Record<string, string[]>> = [{ [schemeName]: [...scopes] }];
  if (route.optional) {
    security.push({});
  }
  Reflect.defineMetadata(SWAGGER_API_SECURITY, [...(original.security ?? []), ...security], handler);

  const schema: SchemaObject = { $ref: `#/components/schemas/${errorSchemaName}` } as SchemaObject;
  const errors: Record<string, { description: string; schema: SchemaObject }> = {
    401: { description: 'The bearer token is missing, invalid or expired.', schema },
  };
  if (route.scopes.length > 0) {
    errors[403] = { description: `The token lacks a required scope (${route.scopes.join(', ')}).`, schema };
  }
  // Swagger adds the route's own success answer only to a handler without response metadata of its own.
  const responses = original.responses ?? { [successStatus(handler)]: { description: '' } };
  Reflect.defineMetadata(SWAGGER_API_RESPONSE, { ...errors, ...responses }, handler);
}

function originalMetadata(handler: object): OriginalSwaggerMetadata {
  const saved = Reflect.getMetadata(ORIGINAL_METADATA, handler) as OriginalSwaggerMetadata | undefined;
  if (saved) {
    return saved;
  }
  const original: OriginalSwaggerMetadata = {
    security: Reflect.getMetadata(SWAGGER_API_SECURITY, handler) as unknown[] | undefined,
    responses: Reflect.getMetadata(SWAGGER_API_RESPONSE, handler) as Record<string, unknown> | undefined,
  };
  Reflect.defineMetadata(ORIGINAL_METADATA, original, handler);
  return original;
}

/** The status Swagger gives a handler without `@ApiResponse()`: its `@HttpCode()`, else 201 for POST, else 200. */
function successStatus(handler: object): number {
  const code = Reflect.getMetadata(NEST_HTTP_CODE_METADATA, handler) as number | undefined;
  if (code !== undefined) {
    return code;
  }
  return Reflect.getMetadata(NEST_METHOD_METADATA, handler) === NEST_REQUEST_METHOD_POST ? 201 : 200;
}
