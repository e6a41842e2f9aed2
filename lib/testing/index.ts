export { OAuth2TestingServer } from './oauth2-testing-server';
export type {
  OAuth2TestingIntrospection,
  OAuth2TestingServerOptions,
  OAuth2TestingTokenOptions,
} from './oauth2-testing.interfaces';
