import { renderErrorResponse, wwwAuthenticate } from './error-response';
import { OAuth2ErrorKey } from './oauth2-error-key.enum';
import { OAuth2Exception } from './oauth2.exception';

const METADATA = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';

describe('challenges with protectedResource (RFC 9728 §5.1)', () => {
  it('carry resource_metadata on every Bearer challenge, 401 and 403 alike, under each profile', () => {
    const missing = new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER);
    const invalid = new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN);
    const scope = new OAuth2Exception(OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE, { requiredScopes: ['a', 'b'] });
    for (const profile of ['documented', 'gateway', 'rfc'] as const) {
      expect(wwwAuthenticate(missing, 'api', profile, METADATA)).toBe(
        `Bearer realm="api", resource_metadata="${METADATA}"`,
      );
      expect(wwwAuthenticate(invalid, 'api', profile, METADATA)).toBe(
        `Bearer realm="api", resource_metadata="${METADATA}", error="invalid_token"`,
      );
      expect(wwwAuthenticate(scope, 'api', profile, METADATA)).toBe(
        `Bearer realm="api", resource_metadata="${METADATA}", error="insufficient_scope", scope="a b"`,
      );
    }
  });

  it('leaves out what had no challenge before (no server configured, the rfc profile 503)', () => {
    expect(
      wwwAuthenticate(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_SERVER), 'api', 'documented', METADATA),
    ).toBeUndefined();
    expect(
      wwwAuthenticate(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE), 'api', 'rfc', METADATA),
    ).toBeUndefined();
  });

  it('reach the rendered response from the settings', () => {
    const rendered = renderErrorResponse(new OAuth2Exception(OAuth2ErrorKey.OAUTH2_MISSING_HEADER), undefined, {
      realm: 'api',
      responseTemplates: {},
      protectedResource: { metadataUrl: METADATA },
    });
    expect(rendered.headers['WWW-Authenticate']).toBe(`Bearer realm="api", resource_metadata="${METADATA}"`);
  });
});
