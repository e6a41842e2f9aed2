import type { SchemaObject } from '@nestjs/swagger';
import { OAUTH2_ERROR_KEYS } from '../errors/oauth2-error-key.enum';

/** The default JSON body of a rejection (`OAuth2Exception`), as an OpenAPI schema. */
export const OAUTH2_ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['statusCode', 'error', 'message', 'key'],
  properties: {
    statusCode: { type: 'integer', description: 'The HTTP status of the answer.', example: 401 },
    error: { type: 'string', description: 'The status text.', example: 'Unauthorized' },
    message: { type: 'string', description: 'What was wrong with the request.' },
    key: {
      type: 'string',
      enum: [...OAUTH2_ERROR_KEYS],
      description: 'The error key: which check rejected the request.',
      example: 'OAUTH2_INVALID_ACCESS_TOKEN',
    },
  },
};
