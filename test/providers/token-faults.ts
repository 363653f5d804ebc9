/**
 * Real faults on a SoftHSM2 token for the failover tests: access to the token is revoked the way an
 * operator (or a PIN lockout) revokes it. Every session on the token is closed (C_CloseAllSessions,
 * which also ends the login, PKCS#11 v3.0 sec. 5.6) and the SO sets another user PIN (C_InitPIN),
 * so the provider's sessions die and its reconnects fail at C_Login with CKR_PIN_INCORRECT until
 * the PIN is set back. Removing the token's files is not used: SoftHSM2 2.6.1 marks a token whose
 * directory vanished as broken (CKR_GENERAL_ERROR) until C_Finalize, so it could never come back in
 * the same process (measured here).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SessionFlag, UserType, type Slot } from 'graphene-pk11';
import { loadPkcs11Module } from '../../src/providers/pkcs11/module.js';
import { findSlot } from '../../src/providers/pkcs11/token.js';
import type { TestToken } from '../support/softhsm.js';

function slotOf(token: TestToken): Slot {
  const module = loadPkcs11Module('token fault', token.library);
  return findSlot(module, { provider: 'token fault', tokenLabel: token.tokenLabel, pin: '' });
}

function setUserPin(slot: Slot, soPin: string, pin: string): void {
  const session = slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
  try {
    session.login(soPin, UserType.SO);
    session.initPin(pin);
    session.logout();
  } finally {
    session.close();
  }
}

const soPinOf = (token: TestToken): string =>
  readFileSync(path.join(path.dirname(token.pinFile), 'so.pin'), 'utf8').trim();

/** Revokes access to `token`; returns the function that gives it back (the original PIN). */
export function revokeAccess(token: TestToken): () => void {
  const slot = slotOf(token);
  const soPin = soPinOf(token);
  // Synchronous from here on: no request can reach the token between these calls.
  slot.lib.C_CloseAllSessions(slot.handle);
  setUserPin(slot, soPin, randomBytes(12).toString('base64url'));
  return () => setUserPin(slot, soPin, token.pin);
}

/** Sets the user PIN of `token` (a stand-in whose vendor library expects another PIN form). */
export function setTokenPin(token: TestToken, pin: string): TestToken {
  setUserPin(slotOf(token), soPinOf(token), pin);
  return { ...token, pin, options: { ...token.options, pin } };
}
