/**
 * PKCS#8 PrivateKeyInfo (RFC 5208) for the three curves a PKCS#11 device may sign with, so that
 * C_UnwrapKey can turn a wrapped blob straight into a private-key object. Each encoding is a fixed
 * prefix followed by the 32-byte secret:
 * - EC (RFC 5915 ECPrivateKey, RFC 5480 named curve; parameters and public key omitted, both
 *   optional): SEQUENCE { INTEGER 0, SEQUENCE { id-ecPublicKey, curve }, OCTET STRING {
 *   SEQUENCE { INTEGER 1, OCTET STRING d } } }.
 * - Ed25519 (RFC 8410 sec. 7): SEQUENCE { INTEGER 0, SEQUENCE { id-Ed25519 }, OCTET STRING {
 *   OCTET STRING seed } }.
 */
import type { DeviceSignAlgorithm } from '../provider.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

const PREFIX: Readonly<Record<DeviceSignAlgorithm, Uint8Array>> = {
  // 1.2.840.10045.2.1 id-ecPublicKey, 1.2.840.10045.3.1.7 prime256v1
  'p-256': hex('3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420'),
  // 1.2.840.10045.2.1 id-ecPublicKey, 1.3.132.0.10 secp256k1
  secp256k1: hex('303e020100301006072a8648ce3d020106052b8104000a042730250201010420'),
  // 1.3.101.112 id-Ed25519
  ed25519: hex('302e020100300506032b657004220420'),
};

export const SECRET_BYTES = 32;

export function isPkcs8Algorithm(algorithm: string): algorithm is DeviceSignAlgorithm {
  return algorithm in PREFIX;
}

/** The DER PrivateKeyInfo of a 32-byte scalar or seed; the caller wipes the result. */
export function encodePkcs8(algorithm: DeviceSignAlgorithm, secret: Uint8Array): Uint8Array {
  if (secret.length !== SECRET_BYTES)
    throw new RangeError(`a ${algorithm} key is ${SECRET_BYTES} bytes`);
  const prefix = PREFIX[algorithm];
  const der = new Uint8Array(prefix.length + SECRET_BYTES);
  der.set(prefix);
  der.set(secret, prefix.length);
  return der;
}

/**
 * The 32-byte secret inside `der`, or null when `der` is not our encoding for `algorithm`.
 * Up to 7 trailing zero bytes are accepted: a device that zero-pads before RFC 5649 (SoftHSM2
 * 2.6.1) returns the DER padded to a multiple of 8 bytes.
 */
export function decodePkcs8(algorithm: DeviceSignAlgorithm, der: Uint8Array): Uint8Array | null {
  const prefix = PREFIX[algorithm];
  const end = prefix.length + SECRET_BYTES;
  if (der.length < end || der.length - end > 7) return null;
  for (let i = 0; i < prefix.length; i++) if (der[i] !== prefix[i]) return null;
  for (let i = end; i < der.length; i++) if (der[i] !== 0) return null;
  return der.slice(prefix.length, end);
}
