import type { OAuth2CacheResourceOptions } from './cache-options.interface';
import type { OAuth2PolicyOptions } from './policy-options.interface';
import type { OAuth2ResourceOptions } from './resource-options.interface';
import type { OAuth2ResponseTemplates } from './response-template.interface';

/** The options of `OAuth2Module.forRoot()` (and the result of `forRootAsync()`'s factory). */
export interface OAuth2ModuleOptions {
  /** The authorization servers, by name. At least one. */
  resources: OAuth2ResourceOptions[];
  /** The cache resources, by name. */
  caches?: OAuth2CacheResourceOptions[];
  /** The default policy of every guarded route. */
  policy?: OAuth2PolicyOptions;
  /** Responses that replace the default error responses, per key and media type. */
  responseTemplates?: OAuth2ResponseTemplates;
  /** The `realm` of `WWW-Authenticate`. Default `api`. */
  realm?: string;
}

/**
 * A class that makes the module's options, for `forRootAsync({ useClass })` or `useExisting`.
 *
 * @example
 * @Injectable()
 * class OAuth2Config implements OAuth2OptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createOAuth2Options(): OAuth2ModuleOptions { return { resources: [...], policy: {...} }; }
 * }
 */
export interface OAuth2OptionsFactory {
  createOAuth2Options(): OAuth2ModuleOptions | Promise<OAuth2ModuleOptions>;
}

/** Options that sit beside the module options in `forRoot()` and `forRootAsync()`. */
export interface OAuth2ModuleExtras {
  /** Bind `OAuth2Guard` to every route of the application (`APP_GUARD`). Default false. */
  global?: boolean;
}
