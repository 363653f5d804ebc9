/**
 * One provider's live link to its token: the slot, the keeper session (logged in, holding the root
 * key handle and the cached objects) and the pool for cryptographic operations. Built by open()
 * and again after a lost session; device failures are ProviderUnavailableError, configuration
 * problems (no such token, wrong PIN, no AES-KWP) plain Errors that name the provider.
 */
import type { SecretKey, Session, Slot } from 'graphene-pk11';
import type { Capabilities } from '../provider.js';
import { ckrOf, mapPkcs11Error } from './errors.js';
import { loadPkcs11Module } from './module.js';
import { SessionPool } from './session-pool.js';
import {
  closeQuietly,
  findOrCreateRootKey,
  findSlot,
  listedMechanisms,
  openUserSession,
  type TokenTarget,
} from './token.js';
import { capabilitiesOf, kwpMechanismOf, type VendorName, type VendorSettings } from './vendors.js';

export interface Connection {
  readonly slot: Slot;
  /** Owns the root key handle and the cached objects. */
  readonly session: Session;
  readonly pool: SessionPool;
  readonly root: SecretKey;
  /** The RFC 5649 mechanism. */
  readonly kwp: number;
  /** The vendor's capabilities narrowed to the mechanisms this token lists. */
  readonly capabilities: Capabilities;
}

export interface ConnectOptions extends TokenTarget {
  readonly vendor: VendorName;
  readonly settings: VendorSettings;
  readonly library: string | undefined;
  readonly rootKeyLabel: string;
  readonly importRootKey: Uint8Array | undefined;
}

export function connect(o: ConnectOptions): Connection {
  const library = o.library ?? o.settings.library;
  if (!library) {
    throw new Error(
      `pkcs11 provider ${o.provider}: vendor ${o.vendor} has no default library; set library`,
    );
  }
  const slot = findSlot(loadPkcs11Module(o.provider, library), o);
  const listed = listedMechanisms(slot);
  const kwp = kwpMechanismOf(o.settings, listed);
  if (kwp === undefined) {
    const wanted = o.settings.kwpMechanisms.map((m) => `0x${m.toString(16)}`).join(' or ');
    throw new Error(
      `pkcs11 provider ${o.provider}: the ${o.vendor} token offers no RFC 5649 key wrap (AES-KWP, ` +
        `mechanism ${wanted || 'none known'}), which the KMS needs to keep its root key in the device ` +
        '(see docs/providers.md)',
    );
  }
  const session = step(o.provider, 'opening a session', () => openUserSession(slot, o));
  try {
    const root = step(o.provider, 'finding or creating the root key', () =>
      findOrCreateRootKey(session, o.provider, o.rootKeyLabel, o.importRootKey),
    );
    const capabilities = capabilitiesOf(o.settings, listed);
    return { slot, session, pool: new SessionPool(slot), root, kwp, capabilities };
  } catch (e) {
    closeQuietly(session);
    throw e;
  }
}

export function disconnect(c: Connection | undefined): void {
  c?.pool.close();
  closeQuietly(c?.session);
}

/** Runs a set-up step: PKCS#11 failures become contract errors, our own Errors pass unchanged. */
function step<T>(provider: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw ckrOf(e) === undefined ? e : mapPkcs11Error(provider, what, e);
  }
}
