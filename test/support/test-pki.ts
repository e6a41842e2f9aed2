import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * A throwaway public-key infrastructure made by the test itself (node-forge for the X.509 structures,
 * Node's crypto for the RSA keys): CAs, server certificates for 127.0.0.1, client certificates. Nothing
 * is read from or written to disk.
 */

/** A key pair and its certificate, as PEM texts. */
export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
  /** The forge objects, to sign other certificates with. */
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
}

/** What a certificate is for, and its validity. */
export interface CertificateRequest {
  readonly commonName: string;
  /** IP addresses and DNS names of a server certificate. */
  readonly ips?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly usage: 'ca' | 'server' | 'client';
  /** Validity relative to now, in days; default from yesterday to in 30 days. */
  readonly notBeforeDays?: number;
  readonly notAfterDays?: number;
}

function newKeyPair(): { privatePem: string; key: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  return { privatePem, key, publicKey };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Issues a certificate, signed by `issuer`, or self-signed without one. */
export function issue(request: CertificateRequest, issuer?: Issued): Issued {
  const { privatePem, key, publicKey } = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the high bit clear.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() + (request.notBeforeDays ?? -1) * DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + (request.notAfterDays ?? 30) * DAY_MS);
  const subject = [
    { name: 'commonName', value: request.commonName },
    { name: 'organizationName', value: 'nestjs-oauth2-policy tests' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : subject);
  const extensions: object[] = [];
  if (request.usage === 'ca') {
    extensions.push(
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    );
  } else {
    extensions.push(
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: request.usage === 'server', clientAuth: request.usage === 'client' },
    );
    const altNames = [
      ...(request.ips ?? []).map((ip) => ({ type: 7, ip })),
      ...(request.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ];
    if (altNames.length > 0) {
      extensions.push({ name: 'subjectAltName', altNames });
    }
  }
  extensions.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(extensions);
  cert.sign(issuer ? issuer.key : key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: privatePem, cert, key };
}

/** A CA. */
export function certificateAuthority(commonName: string): Issued {
  return issue({ commonName, usage: 'ca', notAfterDays: 365 });
}

/** A server certificate for 127.0.0.1 (and `localhost`), signed by a CA. */
export function serverCertificate(ca: Issued, overrides: Partial<CertificateRequest> = {}): Issued {
  return issue(
    { commonName: '127.0.0.1', ips: ['127.0.0.1'], dnsNames: ['localhost'], usage: 'server', ...overrides },
    ca,
  );
}

/** A client certificate (mutual TLS), signed by a CA. */
export function clientCertificate(ca: Issued, commonName: string): Issued {
  return issue({ commonName, usage: 'client' }, ca);
}

/** The private key of `issued`, encrypted with a passphrase (PKCS#8, AES-256-CBC). */
export function encryptedKey(issued: Issued, passphrase: string): string {
  return createPrivateKey(issued.keyPem)
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    .toString();
}
