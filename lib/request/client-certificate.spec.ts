import { X509Certificate, createHash } from 'node:crypto';
import { certificateAuthority, clientCertificate } from '../../test/support/test-pki';
import { certificateFromHeader, clientCertificateOf } from './client-certificate';
import type { GuardedRequest } from './http-request';

/** Reading a request's client certificate: the TLS socket's, or a trusted proxy's RFC 9440 header. */

const ca = certificateAuthority('Client certificate test CA');
const alice = clientCertificate(ca, 'alice');
const der = new X509Certificate(alice.certPem).raw;
const thumbprint = createHash('sha256').update(der).digest('base64url');
const b64 = der.toString('base64');

describe('certificateFromHeader (RFC 9440 Client-Cert)', () => {
  it('reads one byte sequence of a DER certificate, around optional whitespace', () => {
    for (const value of [`:${b64}:`, ` :${b64}:\t`]) {
      expect(certificateFromHeader(value)).toEqual({ kind: 'certificate', thumbprint });
    }
  });

  it('has no certificate without the header', () => {
    expect(certificateFromHeader(undefined)).toEqual({ kind: 'none' });
    expect(certificateFromHeader('')).toEqual({ kind: 'none' });
  });

  it.each([
    ['no colons', b64],
    ['one colon', `:${b64}`],
    ['a parameter', `:${b64}:;a=1`],
    ['two members', `:${b64}:, :${b64}:`],
    ['base64url', `:${der.toString('base64url').replace(/^[A-Za-z0-9]/, '_')}:`],
    ['a truncated sequence', `:${b64.slice(0, -1)}:`],
    ['padding in excess', `:${b64}=:`],
    ['an empty sequence', '::'],
    ['a quoted string', `"${b64}"`],
    ['PEM', `:${alice.certPem}:`],
    ['bytes that are no certificate', `:${Buffer.from('no certificate').toString('base64')}:`],
  ])('refuses %s as malformed', (_name, value) => {
    expect(certificateFromHeader(value).kind).toBe('malformed');
  });

  it('refuses a header given as several values', () => {
    expect(certificateFromHeader([`:${b64}:`, `:${b64}:`]).kind).toBe('malformed');
  });
});

describe('clientCertificateOf', () => {
  const tlsSocket = (raw: unknown) => ({ getPeerCertificate: () => (raw === undefined ? {} : { raw }) });

  it("reads the TLS socket's peer certificate: Express's request, Fastify's raw message", () => {
    const express = { headers: {}, socket: tlsSocket(der) } as unknown as GuardedRequest;
    const fastify = { headers: {}, raw: { headers: {}, socket: tlsSocket(der) } } as unknown as GuardedRequest;
    expect(clientCertificateOf(express, undefined)).toEqual({ kind: 'certificate', thumbprint });
    expect(clientCertificateOf(fastify, undefined)).toEqual({ kind: 'certificate', thumbprint });
  });

  it('has none over plain HTTP, without a certificate, and on a request made up by a transport', () => {
    expect(clientCertificateOf({ headers: {}, socket: {} } as unknown as GuardedRequest, undefined).kind).toBe('none');
    expect(
      clientCertificateOf({ headers: {}, socket: tlsSocket(undefined) } as unknown as GuardedRequest, undefined).kind,
    ).toBe('none');
    expect(clientCertificateOf({ headers: { authorization: 'Bearer x' } }, undefined).kind).toBe('none');
  });

  it("reads only the header when one is trusted, never the connection's certificate", () => {
    const other = new X509Certificate(clientCertificate(ca, 'proxy').certPem).raw;
    const request = { headers: { 'client-cert': `:${b64}:` }, socket: tlsSocket(other) } as unknown as GuardedRequest;
    expect(clientCertificateOf(request, 'client-cert')).toEqual({ kind: 'certificate', thumbprint });
    const withoutHeader = { headers: {}, socket: tlsSocket(der) } as unknown as GuardedRequest;
    expect(clientCertificateOf(withoutHeader, 'client-cert').kind).toBe('none');
  });
});
