/**
 * Moving secrets in and out of the device under the root key, all as session objects (CKA_TOKEN
 * false, so they vanish with the session): wrap a raw value, unwrap to a raw value, or unwrap into
 * a non-extractable object that operations use in place.
 */
import {
  ObjectClass,
  type IAlgorithm,
  type Key,
  type SecretKey,
  type Session,
  type SessionObject,
} from 'graphene-pk11';
import { CKK } from './constants.js';

/** What an in-device object is for; decides its class, type and the one operation it allows. */
export type Usage = 'hmac' | 'aes' | 'ecdsa' | 'eddsa';

const IN_DEVICE = { token: false, private: true, sensitive: true, extractable: false } as const;

const USAGE_TEMPLATES = {
  hmac: { ...IN_DEVICE, class: ObjectClass.SECRET_KEY, keyType: CKK.GENERIC_SECRET, sign: true },
  aes: {
    ...IN_DEVICE,
    class: ObjectClass.SECRET_KEY,
    keyType: CKK.AES,
    encrypt: true,
    decrypt: true,
  },
  ecdsa: { ...IN_DEVICE, class: ObjectClass.PRIVATE_KEY, keyType: CKK.EC, sign: true },
  eddsa: { ...IN_DEVICE, class: ObjectClass.PRIVATE_KEY, keyType: CKK.EC_EDWARDS, sign: true },
} as const;

export function kwp(mechanism: number): IAlgorithm {
  return { name: mechanism, params: null };
}

/**
 * RFC 5649 wrap of a raw value: C_WrapKey needs an object, so the value becomes a short-lived
 * extractable generic secret, destroyed right after.
 */
export function wrapValue(
  session: Session,
  root: SecretKey,
  mechanism: number,
  value: Uint8Array,
): Uint8Array {
  const copy = Buffer.from(value);
  let tmp: SessionObject | undefined;
  try {
    tmp = session.create({
      class: ObjectClass.SECRET_KEY,
      keyType: CKK.GENERIC_SECRET,
      token: false,
      sensitive: true,
      extractable: true,
      value: copy,
    });
    return new Uint8Array(session.wrapKey(kwp(mechanism), root, tmp.toType<Key>()));
  } finally {
    copy.fill(0);
    destroyQuietly(session, tmp);
  }
}

/** RFC 5649 unwrap to raw bytes (a readable generic secret, read once, then destroyed). */
export function unwrapValue(
  session: Session,
  root: SecretKey,
  mechanism: number,
  blob: Uint8Array,
): Uint8Array {
  const obj = session.unwrapKey(kwp(mechanism), root, Buffer.from(blob), {
    class: ObjectClass.SECRET_KEY,
    keyType: CKK.GENERIC_SECRET,
    token: false,
    sensitive: false,
    extractable: true,
  });
  try {
    const value = obj.getAttribute({ value: null }).value as Buffer;
    const out = new Uint8Array(value);
    value.fill(0);
    return out;
  } finally {
    destroyQuietly(session, obj);
  }
}

/** RFC 5649 unwrap straight into a non-extractable, sensitive object for `usage`. */
export function unwrapForUse(
  session: Session,
  root: SecretKey,
  mechanism: number,
  blob: Uint8Array,
  usage: Usage,
): Key {
  return session.unwrapKey(kwp(mechanism), root, Buffer.from(blob), { ...USAGE_TEMPLATES[usage] });
}

export function destroyQuietly(session: Session, obj: SessionObject | undefined): void {
  if (!obj) return;
  try {
    session.destroy(obj);
  } catch {
    // Already gone with its session; nothing is left to destroy.
  }
}
