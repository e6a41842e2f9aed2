import { createHash } from 'node:crypto';

/**
 * The first 8 hex digits of the token's SHA-256: enough to tell a client's requests apart in a debug
 * log or an audit record, and to find them from a token one holds (`printf %s "$TOKEN" | sha256sum |
 * cut -c1-8`), while telling nothing of the token.
 */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 8);
}
