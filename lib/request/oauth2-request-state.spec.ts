import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { inspect } from 'node:util';
import { freshRequestState, getOAuth2Attributes, requestState } from './oauth2-request-state';

describe('the guard state of a request', () => {
  it('is created once per request, and found again by the same request only', () => {
    const request = { headers: {} };
    const state = requestState(request);
    expect(requestState(request)).toBe(state);
    expect(requestState({ headers: {} })).not.toBe(state);
    state.attributes['oauth.client_id'] = 'app';
    expect(getOAuth2Attributes(request)).toEqual({ 'oauth.client_id': 'app' });
    expect(getOAuth2Attributes({})).toEqual({});
  });

  it('is not inherited by an object made from a request', () => {
    const request = { headers: {} };
    const state = requestState(request);
    const derived: object = Object.create(request);
    expect(requestState(derived)).not.toBe(state);
    expect(requestState(request)).toBe(state);
    expect(getOAuth2Attributes(Object.create(request))).toEqual({});
  });

  it('replaces the state of a carrier that outlives one call', () => {
    const client = {};
    const first = requestState(client);
    const second = freshRequestState(client);
    expect(second).not.toBe(first);
    expect(requestState(client)).toBe(second);
  });

  it('hangs beside a carrier that cannot take a property (frozen, sealed, not extensible, a refusing proxy)', () => {
    const refusing = new Proxy({}, { set: () => false, defineProperty: () => false });
    for (const carrier of [Object.freeze({}), Object.seal({}), Object.preventExtensions({}), refusing]) {
      const state = requestState(carrier);
      state.attributes['oauth.client_id'] = 'app';
      expect(requestState(carrier)).toBe(state);
      expect(getOAuth2Attributes(carrier)['oauth.client_id']).toBe('app');
      expect(Object.getOwnPropertySymbols(carrier)).toEqual([]);
    }
  });

  it('never shows the token where a request is listed, serialized or logged whole', () => {
    const token = 'secret-access-token-0123456789';
    const request = { headers: { host: 'example.test' }, url: '/orders' };
    const state = requestState(request);
    state.attributes['oauth.access_token'] = token;
    state.attributes['oauth.client_id'] = 'app';
    expect(Object.keys(request)).toEqual(['headers', 'url']);
    expect(JSON.stringify(request)).not.toContain(token);
    const shown = inspect(request, { depth: 10, showHidden: true });
    expect(shown).not.toContain(token);
    expect(shown).toContain('OAuth2RequestState { oauth.access_token, oauth.client_id }');
  });

  it("keeps a Node message's state on its raw headers, not on the message (Express's request: a property there is a slow look-up)", () => {
    const token = 'secret-access-token-0123456789';
    const message = new IncomingMessage(new Socket());
    message.rawHeaders.push('Host', 'example.test');
    const state = requestState(message);
    state.attributes['oauth.access_token'] = token;
    state.attributes['oauth.client_id'] = 'app';
    expect(requestState(message)).toBe(state);
    expect(getOAuth2Attributes(message)['oauth.client_id']).toBe('app');
    expect(Object.getOwnPropertySymbols(message).map(String)).not.toContain('Symbol(oauth2.requestState)');
    // The raw headers read as before: the same entries, nothing more in JSON, and no token when logged.
    expect([...message.rawHeaders]).toEqual(['Host', 'example.test']);
    expect(JSON.stringify(message.rawHeaders)).toBe('["Host","example.test"]');
    expect(inspect(message, { depth: 10, showHidden: true })).not.toContain(token);
    // Removing a header in place (propagateAuthHeader: false) keeps the state.
    message.rawHeaders.splice(0, 2);
    expect(requestState(message)).toBe(state);
    // A fresh state replaces the message's, as a property would be replaced.
    const fresh = freshRequestState(message);
    expect(requestState(message)).toBe(fresh);
  });

  it('gives an object made from a Node message a state of its own, whichever asks first', () => {
    const message = new IncomingMessage(new Socket());
    const state = requestState(message);
    const derived: object = Object.create(message);
    const derivedState = requestState(derived);
    expect(derivedState).not.toBe(state);
    expect(requestState(derived)).toBe(derivedState);
    expect(requestState(message)).toBe(state);
    expect(getOAuth2Attributes(Object.create(message))).toEqual({});

    const other = new IncomingMessage(new Socket());
    const otherDerived: object = Object.create(other);
    const first = requestState(otherDerived);
    const second = requestState(other);
    expect(second).not.toBe(first);
    expect(requestState(otherDerived)).toBe(first);
    expect(requestState(other)).toBe(second);
  });

  it('keeps the state of a Node message whose raw headers cannot take a property beside it', () => {
    const message = new IncomingMessage(new Socket());
    Object.freeze(message.rawHeaders);
    const state = requestState(message);
    state.attributes['oauth.client_id'] = 'app';
    expect(requestState(message)).toBe(state);
    expect(getOAuth2Attributes(message)['oauth.client_id']).toBe('app');
  });
});
