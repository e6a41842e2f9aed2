export * from './authorization-server.error';
export * from './generic-oauth2.resource';
export * from './gravitee-am.resource';
export * from './oauth2-resource';
export * from './oauth2-resource.registry';
export type { OutgoingRequest } from './outgoing-request';
