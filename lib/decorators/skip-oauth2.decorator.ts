import { SetMetadata } from '@nestjs/common';
import { SKIP_METADATA } from '../oauth2.constants';

/**
 * Lets a controller's or handler's requests through the guard untouched: for public routes when the
 * guard is bound globally.
 *
 * @example
 * @Get('health') @SkipOAuth2()
 * health() { return { status: 'ok' }; }
 */
export const SkipOAuth2 = (): ClassDecorator & MethodDecorator => SetMetadata(SKIP_METADATA, true);
