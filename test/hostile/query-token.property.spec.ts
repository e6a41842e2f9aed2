import fc from 'fast-check';
import { queryParamValues, withoutQueryParam } from '../../lib/request/http-request';

/**
 * Issue 12, point 4, property-based: removing `access_token` from a URL (`propagateAuthHeader: false`)
 * removes every parameter the guard would read as a query token, and nothing else: the other
 * parameters keep their order and their bytes. The model is WHATWG's URLSearchParams, which is also how
 * the guard reads query tokens.
 */

const NAME = 'access_token';

/** One query segment: names near access_token in every spelling, values of any kind. */
const segment = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(
        'access_token',
        'access%5Ftoken',
        'access%5ftoken',
        '%61ccess_token',
        'access_token%',
        'access_token%5B%5D',
        'access+token',
        '?access_token',
        'access_tokens',
        'xaccess_token',
        'ACCESS_TOKEN',
        'a',
        '',
      ),
      fc.string({ unit: fc.constantFrom('a', '%', '5', 'F', '_', '+', '?', '=', '#', 'é'), maxLength: 6 }),
    ),
    fc.option(fc.string({ unit: 'binary-ascii', maxLength: 8 }).map((text) => text.replace(/&/g, '%26'))),
  )
  .map(([name, valuePart]) => (valuePart === null ? name : `${name}=${valuePart}`));

const url = fc
  .tuple(fc.constantFrom('/p', '/a/b', ''), fc.array(segment, { maxLength: 8 }))
  .map(([path, segments]) => `${path}?${segments.join('&')}`);

/** The name a segment has once decoded, as URLSearchParams reads it after the query's `?`. */
function decodedName(text: string): string | undefined {
  for (const name of new URLSearchParams(`?${text}`).keys()) {
    return name;
  }
  return undefined;
}

describe('withoutQueryParam, property-based', () => {
  it('removes every segment named access_token once decoded, keeps the others byte for byte and in order', () => {
    fc.assert(
      fc.property(url, (original) => {
        const stripped = withoutQueryParam(original, NAME);
        const question = original.indexOf('?');
        const segments = original.slice(question + 1).split('&');
        const kept = segments.filter((text) => decodedName(text) !== NAME);
        if (kept.length === segments.length) {
          expect(stripped).toBe(original);
        } else {
          expect(stripped).toBe(
            kept.length ? `${original.slice(0, question)}?${kept.join('&')}` : original.slice(0, question),
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves no query token for the guard to read, and the same parameters otherwise', () => {
    fc.assert(
      fc.property(url, (original) => {
        const stripped = withoutQueryParam(original, NAME);
        expect(queryParamValues({ headers: {}, url: stripped }, NAME)).toEqual([]);
        const params = (text: string) =>
          text.includes('?') ? [...new URLSearchParams(text.slice(text.indexOf('?')))] : [];
        expect(params(stripped)).toEqual(params(original).filter(([name]) => name !== NAME));
        expect(withoutQueryParam(stripped, NAME)).toBe(stripped);
      }),
      { numRuns: 2000 },
    );
  });
});
