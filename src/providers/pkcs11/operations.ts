/**
 * The cryptographic operations on in-device objects, one call each. Empty input goes through
 * init + final: SoftHSM2 2.6.1 answers C_Sign and C_EncryptUpdate of zero bytes with
 * CKR_ARGUMENTS_BAD (measured here), while HMAC of "" and GCM of "" are well defined.
 */
import { AesGcmParams, type IAlgorithm, type Key, type Session, type Sign } from 'graphene-pk11';
import { CKM } from './constants.js';

export const GCM_TAG_BYTES = 16;

export function hmacSha256(s: Session, key: Key, data: Uint8Array): Buffer {
  return signAll(s.createSign(mechanism(CKM.SHA256_HMAC), key), data);
}

/** CKM_ECDSA over a digest given by the caller (PKCS#11 v3.0 sec. 6.3.12); raw r || s. */
export function ecdsaSign(s: Session, key: Key, digest: Uint8Array): Buffer {
  return signAll(s.createSign(mechanism(CKM.ECDSA), key), digest);
}

/** CKM_EDDSA without parameters: pure Ed25519 (RFC 8032 sec. 5.1). */
export function eddsaSign(s: Session, key: Key, message: Uint8Array): Buffer {
  return signAll(s.createSign(mechanism(CKM.EDDSA), key), message);
}

export function gcmEncrypt(
  s: Session,
  key: Key,
  iv: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Buffer {
  const cipher = s.createCipher(gcm(iv, aad), key);
  if (plaintext.length === 0) return cipher.final();
  return cipher.once(Buffer.from(plaintext), Buffer.alloc(plaintext.length + GCM_TAG_BYTES));
}

/** Decrypts ciphertext || tag (never empty: the tag alone is 16 bytes). */
export function gcmDecrypt(
  s: Session,
  key: Key,
  iv: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Buffer {
  return s.createDecipher(gcm(iv, aad), key).once(Buffer.from(sealed), Buffer.alloc(sealed.length));
}

function signAll(signer: Sign, data: Uint8Array): Buffer {
  return data.length === 0 ? signer.final() : signer.once(Buffer.from(data));
}

function mechanism(name: number): IAlgorithm {
  return { name, params: null };
}

/** CK_GCM_PARAMS with a 128-bit tag (NIST SP 800-38D sec. 5.2.1.2). */
function gcm(iv: Uint8Array, aad: Uint8Array): IAlgorithm {
  return {
    name: CKM.AES_GCM,
    params: new AesGcmParams(Buffer.from(iv), Buffer.from(aad), GCM_TAG_BYTES * 8),
  };
}
