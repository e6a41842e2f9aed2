/**
 * `nestjs-oauth2-policy/terminus`: the health indicator for `@nestjs/terminus`, an optional peer that
 * only this entry loads.
 */
export { OAuth2HealthIndicator } from './oauth2-health.indicator';
