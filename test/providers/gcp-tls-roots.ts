/**
 * A TLS identity for the fake Cloud KMS: a self-signed certificate for localhost, trusted by the
 * client through GRPC_DEFAULT_SSL_ROOTS_FILE_PATH (grpc-js's documented variable for private CAs).
 * grpc-js reads that variable once, when it is first loaded, so this module must be evaluated
 * before anything imports @grpc/grpc-js or @google-cloud/kms: import it first. The certificate is
 * made on first use (grpc-js reads the file at the first TLS connection), once per process.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(os.tmpdir(), 'zoo-kms-gcp-tls-'));
const certFile = path.join(dir, 'cert.pem');
const keyFile = path.join(dir, 'key.pem');
process.env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH = certFile;
process.once('exit', () => rmSync(dir, { recursive: true, force: true }));

let made: { dir: string; cert: Buffer; key: Buffer } | undefined;

export function tlsIdentity(): { dir: string; cert: Buffer; key: Buffer } {
  if (made) return made;
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat(
      ['-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost'],
      ['-addext', 'subjectAltName=DNS:localhost'],
    ),
    { stdio: 'ignore' },
  );
  made = { dir, cert: readFileSync(certFile), key: readFileSync(keyFile) };
  return made;
}
