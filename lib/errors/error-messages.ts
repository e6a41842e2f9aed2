import { OAuth2ErrorKey } from './oauth2-error-key.enum';

/** The default status and message of each key: the table of the policy's documentation. */
export const DEFAULT_ERRORS: Readonly<Record<OAuth2ErrorKey, { status: number; message: string }>> = {
  [OAuth2ErrorKey.OAUTH2_MISSING_SERVER]: {
    status: 401,
    message: 'No OAuth Authorization Server resource has been configured',
  },
  [OAuth2ErrorKey.OAUTH2_MISSING_HEADER]: {
    status: 401,
    message: 'No OAuth authorization header was supplied',
  },
  [OAuth2ErrorKey.OAUTH2_MISSING_ACCESS_TOKEN]: {
    status: 401,
    message: 'No OAuth access token was supplied',
  },
  [OAuth2ErrorKey.OAUTH2_INVALID_ACCESS_TOKEN]: {
    status: 401,
    message: 'Access token can not be validated by authorization server',
  },
  [OAuth2ErrorKey.OAUTH2_INVALID_SERVER_RESPONSE]: {
    status: 403,
    message: 'Access token can not be validated because of a technical error with authorization server',
  },
  [OAuth2ErrorKey.OAUTH2_SERVER_UNAVAILABLE]: {
    status: 403,
    message: 'Access token can not be validated because of a technical error with authorization server',
  },
  [OAuth2ErrorKey.OAUTH2_INSUFFICIENT_SCOPE]: {
    status: 403,
    message: 'One of the required scopes was missing while introspecting access token',
  },
};
