import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { INACTIVE_ENTRY, activeEntry } from './cached-introspection';
import { EntrySeal } from './entry-seal';

describe('EntrySeal', () => {
  const secret = 'a secret of thirty-two characters';
  const entry = activeEntry({ active: true, client_id: 'app', scope: 'read' });
  let warn: jest.SpiedFunction<Logger['warn']>;
  let seal: EntrySeal;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    seal = new EntrySeal(secret, 'shared');
  });
  afterEach(() => warn.mockRestore());

  it('opens what it sealed under the same key, as a frozen entry', () => {
    const opened = seal.open('oauth2:shared:k1', seal.seal('oauth2:shared:k1', entry));
    expect(opened).toEqual(entry);
    expect(Object.isFrozen(opened)).toBe(true);
    expect(seal.open('k', seal.seal('k', INACTIVE_ENTRY))).toBe(INACTIVE_ENTRY);
    // After JSON, as a store that serializes gives it back.
    expect(seal.open('k', JSON.parse(JSON.stringify(seal.seal('k', entry))))).toEqual(entry);
    expect(warn).not.toHaveBeenCalled();
  });

  it('refuses an entry under another key, edited, unsealed, or sealed under another secret', () => {
    const sealed = seal.seal('k1', entry);
    expect(seal.open('k2', sealed)).toBeUndefined();
    const edited = { ...sealed, entry: sealed.entry.replace('"read"', '"read admin"') };
    expect(seal.open('k1', edited)).toBeUndefined();
    expect(seal.open('k1', entry)).toBeUndefined();
    expect(seal.open('k1', { entry: sealed.entry })).toBeUndefined();
    expect(seal.open('k1', { ...sealed, mac: sealed.mac.slice(1) })).toBeUndefined();
    expect(seal.open('k1', 'text')).toBeUndefined();
    expect(new EntrySeal('another secret, also long enough', 'shared').open('k1', sealed)).toBeUndefined();
  });

  it('refuses a valid MAC over something that is not an entry', () => {
    const other = new EntrySeal(secret, 'shared');
    const sealed = other.seal('k1', entry);
    expect(seal.open('k1', { entry: '[1]', mac: sealed.mac })).toBeUndefined();
  });

  it('keeps the key-hashing secret apart: the MAC key is derived, not the secret itself', () => {
    const sealed = seal.seal('k1', entry);
    const underSecret = createHmac('sha256', secret).update('2:k1\0').update(sealed.entry).digest('base64url');
    expect(sealed.mac).not.toBe(underSecret);
  });

  it('warns once, naming the cache and neither key nor value', () => {
    for (let index = 0; index < 5; index += 1) {
      seal.open(`key-${index}`, { entry: '{"active":true}', mac: 'forged' });
    }
    expect(warn).toHaveBeenCalledTimes(1);
    const line = String(warn.mock.calls[0][0]);
    expect(line).toContain("cache 'shared'");
    expect(line).not.toContain('key-');
    expect(line).not.toContain('forged');
  });
});
