/** Jest global teardown: stops the authorization server that global-setup.mjs started. */
import { OIDC_PROVIDER_KEY } from './global-setup.mjs';

export default async function globalTeardown() {
  const provider = globalThis[OIDC_PROVIDER_KEY];
  delete globalThis[OIDC_PROVIDER_KEY];
  await provider?.stop();
}
