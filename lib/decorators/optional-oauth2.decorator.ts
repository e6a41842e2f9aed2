import { SetMetadata } from '@nestjs/common';
import { OPTIONAL_METADATA } from '../oauth2.constants';

/**
 * Makes the token optional on a controller or handler. A call with no token at all (no Bearer
 * `Authorization` header, and no `access_token` query parameter where the policy reads one) runs
 * anonymously, with no attributes: `@OAuth2Payload()` and the others give `undefined`. A token presented
 * is checked in full, like anywhere else: an invalid, expired or under-scoped one is rejected, never
 * downgraded to anonymous. `@SkipOAuth2()` wins over it.
 *
 * @example
 * @Get('articles') @OptionalOAuth2()
 * list(@OAuth2Attribute('oauth.client_id') clientId?: string) { return clientId ? this.all() : this.public(); }
 */
export const OptionalOAuth2 = (): ClassDecorator & MethodDecorator => SetMetadata(OPTIONAL_METADATA, true);
