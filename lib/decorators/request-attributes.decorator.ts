import { type ExecutionContext, type PipeTransform, createParamDecorator } from '@nestjs/common';
import { JSONPath } from 'jsonpath-plus';
import { OAuth2ConfigurationError } from '../errors/oauth2-configuration.error';
import type { OAuth2RequestAttributes } from '../interfaces/introspection.interface';
import { getOAuth2Attributes } from '../request/oauth2-request-state';
import { carrierOf } from '../transports/transport-request';

const payloadParameter = createParamDecorator((jsonPath: string | undefined, context: ExecutionContext) => {
  const payload = getOAuth2Attributes(callOf(context))['oauth.payload'];
  if (payload === undefined || jsonPath === undefined) {
    return payload;
  }
  return JSONPath({ path: jsonPath, json: payload as object, eval: false, wrap: false });
});

/**
 * The introspection payload of the request, or one value of it by JsonPath (evaluated with
 * `eval: false`: script expressions are refused). Set only when the policy's `extractPayload` is on;
 * `undefined` otherwise, and for a JsonPath that matches nothing. Several matches give an array.
 * A malformed JsonPath fails when the decorator is applied, not on each request.
 *
 * @example
 * @Get('me')
 * me(@OAuth2Payload('$.username') username: string, @OAuth2Payload() payload: IntrospectionPayload) { ... }
 */
export function OAuth2Payload(jsonPath?: string, ...pipes: PipeTransform[]): ParameterDecorator {
  if (jsonPath !== undefined) {
    validateJsonPath(jsonPath);
  }
  return payloadParameter(jsonPath, ...pipes);
}

/**
 * The access token the guard took from the request.
 *
 * @example
 * @Get('profile')
 * profile(@AccessToken() token: string) { return this.resources.get('my-as').userInfo(token); }
 */
export const AccessToken = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => getOAuth2Attributes(callOf(context))['oauth.access_token'],
);

/**
 * One attribute the guard attached, by the policy's name: `oauth.client_id`, `user`, `user.roles`,
 * `oauth.payload`, `oauth.access_token`.
 *
 * @example
 * @Get('me')
 * me(@OAuth2Attribute('oauth.client_id') clientId: string, @OAuth2Attribute('user.roles') scopes: string[]) { ... }
 */
export const OAuth2Attribute = createParamDecorator(
  (name: keyof OAuth2RequestAttributes, context: ExecutionContext) => getOAuth2Attributes(callOf(context))[name],
);

/**
 * What the guard's state of the call hangs on: the HTTP request (of a route, or behind a GraphQL
 * operation), a subscription's context, a gateway's client, a microservice's message context.
 */
function callOf(context: ExecutionContext): object {
  return carrierOf(context) ?? NO_CALL;
}

/** Stands for a call the guard cannot have seen: it has no attributes. */
const NO_CALL = Object.freeze({});

function validateJsonPath(jsonPath: unknown): void {
  if (typeof jsonPath !== 'string' || !jsonPath.startsWith('$')) {
    throw new OAuth2ConfigurationError('@OAuth2Payload()', "takes a JsonPath starting with '$', such as '$.username'.");
  }
  try {
    JSONPath({ path: jsonPath, json: {}, eval: false, wrap: false });
  } catch {
    throw new OAuth2ConfigurationError(
      '@OAuth2Payload()',
      `'${jsonPath}' is not a valid JsonPath (script expressions are not allowed).`,
    );
  }
}
