/**
 * Reaching a token: find its slot, open a session, log in, find or create the root key. Failures
 * here are configuration problems (wrong PIN, no such token, a root key that is not protected), so
 * they are plain Errors naming the provider and the problem; the caller decides whether that stops
 * start-up or marks the provider down.
 */
import {
  KeyGenMechanism,
  KeyType,
  ObjectClass,
  SessionFlag,
  UserType,
  type Module,
  type SecretKey,
  type Session,
  type Slot,
} from 'graphene-pk11';
import { CKR } from './constants.js';
import { ckrName, ckrOf } from './errors.js';
import { slotId, slotsWithToken, tokenLabel } from './module.js';

export interface TokenTarget {
  readonly provider: string;
  readonly tokenLabel?: string;
  readonly slot?: number;
  readonly pin: string;
}

/** The slot holding the token named by label and/or slot id. */
export function findSlot(module: Module, t: TokenTarget): Slot {
  if (t.tokenLabel === undefined && t.slot === undefined) {
    throw new Error(`pkcs11 provider ${t.provider}: set token_label or slot`);
  }
  const slots = slotsWithToken(module);
  const match = slots.find(
    (s) =>
      (t.slot === undefined || slotId(s) === t.slot) &&
      (t.tokenLabel === undefined || tokenLabel(s) === t.tokenLabel),
  );
  if (match) return match;
  const present = slots.map((s) => `"${tokenLabel(s)}" (slot ${slotId(s)})`).join(', ') || 'none';
  const wanted = t.tokenLabel !== undefined ? `labelled "${t.tokenLabel}"` : `in slot ${t.slot}`;
  throw new Error(`pkcs11 provider ${t.provider}: no token ${wanted}; tokens present: ${present}`);
}

/** A read-write session logged in as the normal user. */
export function openUserSession(slot: Slot, t: TokenTarget): Session {
  const session = slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
  try {
    session.login(t.pin, UserType.USER);
  } catch (e) {
    // Login state is per application and token (PKCS#11 v3.0 sec. 5.6): another provider on the
    // same token in this process may have logged in already (the PIN is then not checked again).
    if (ckrOf(e) !== CKR.USER_ALREADY_LOGGED_IN) {
      closeQuietly(session);
      throw new Error(
        `pkcs11 provider ${t.provider}: login to token "${tokenLabel(slot)}" failed: ${loginProblem(e)}`,
        {
          cause: e,
        },
      );
    }
  }
  return session;
}

function loginProblem(e: unknown): string {
  const code = ckrOf(e);
  switch (code) {
    case CKR.PIN_INCORRECT:
      return 'the PIN is incorrect (CKR_PIN_INCORRECT)';
    case CKR.PIN_LOCKED:
      return 'the PIN is locked (CKR_PIN_LOCKED)';
    case CKR.PIN_LEN_RANGE:
      return 'the PIN has the wrong length; check the PIN file (CKR_PIN_LEN_RANGE)';
    case CKR.USER_PIN_NOT_INITIALIZED:
      return 'the token has no user PIN yet (CKR_USER_PIN_NOT_INITIALIZED)';
    default:
      return code === undefined ? String((e as Error)?.message ?? e) : ckrName(code);
  }
}

/** The root key's protection (ARCHITECTURE.md "Key hierarchy" 1): wrap/unwrap only, never leaves. */
const ROOT_ATTRIBUTES = {
  class: ObjectClass.SECRET_KEY,
  keyType: KeyType.AES,
  token: true,
  private: true,
  sensitive: true,
  extractable: false,
  wrap: true,
  unwrap: true,
  encrypt: false,
  decrypt: false,
  sign: false,
  verify: false,
  derive: false,
};

/**
 * Finds the root key by label, or creates it: generated as AES-256 inside the device, or, with
 * `importBytes` (tests replaying RFC 5649 vectors, or a migration), created from given bytes.
 */
export function findOrCreateRootKey(
  session: Session,
  provider: string,
  label: string,
  importBytes?: Uint8Array,
): SecretKey {
  const found = session.find({ class: ObjectClass.SECRET_KEY, token: true, label });
  if (found.length > 1)
    throw new Error(
      `pkcs11 provider ${provider}: ${found.length} keys are labelled "${label}"; expected one`,
    );
  if (found.length === 1) {
    if (importBytes)
      throw new Error(
        `pkcs11 provider ${provider}: a root key labelled "${label}" exists already; not importing`,
      );
    const key = found.items(0).toType<SecretKey>();
    checkRootKey(key, provider, label);
    return key;
  }
  if (importBytes) {
    const value = Buffer.from(importBytes);
    try {
      return session.create({ ...ROOT_ATTRIBUTES, label, value }).toType<SecretKey>();
    } finally {
      value.fill(0);
    }
  }
  return session.generateKey(KeyGenMechanism.AES, { ...ROOT_ATTRIBUTES, label, valueLen: 32 });
}

function checkRootKey(key: SecretKey, provider: string, label: string): void {
  const a = key.getAttribute({
    keyType: null,
    extractable: null,
    sensitive: null,
    wrap: null,
    unwrap: null,
  });
  const problems = [
    a.keyType !== KeyType.AES && 'is not an AES key',
    a.extractable !== false && 'is extractable',
    a.sensitive !== true && 'is not sensitive',
    (a.wrap !== true || a.unwrap !== true) && 'cannot wrap and unwrap',
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) {
    throw new Error(
      `pkcs11 provider ${provider}: the root key labelled "${label}" ${problems.join(', ')}; refusing to use it`,
    );
  }
}

/** Mechanism types the slot lists (C_GetMechanismList). */
export function listedMechanisms(slot: Slot): Set<number> {
  const list = slot.getMechanisms();
  const out = new Set<number>();
  for (let i = 0; i < list.length; i++) out.add(list.tryGetItem(i)?.type ?? -1);
  return out;
}

export function closeQuietly(session: Session | undefined): void {
  try {
    session?.close();
  } catch {
    // The session is already gone (device removed, or closed by C_CloseAllSessions).
  }
}
