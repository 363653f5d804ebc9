/**
 * Loads a PKCS#11 library once per path for the whole process. C_Initialize is per process
 * (PKCS#11 v3.0 sec. 5.4), so every provider on the same library shares one initialised module.
 * It is never finalised: C_Finalize would end the sessions of every other provider on the library,
 * and SoftHSM2 reads SOFTHSM2_CONF only at C_Initialize, so a second initialise would not switch
 * token directories anyway.
 */
import { Module, type Slot } from 'graphene-pk11';
import { ProviderUnavailableError } from '../provider.js';
import { CKF_OS_LOCKING_OK } from './constants.js';

interface Loaded {
  readonly module: Module;
  /** SOFTHSM2_CONF as it was when the library was initialised (SoftHSM2 reads it then only). */
  readonly softhsmConf: string | undefined;
}

/** The one process-wide table: C_Initialize may run once per library per process. */
const loaded = new Map<string, Loaded>();

/**
 * Returns the initialised module for `library`. CKF_OS_LOCKING_OK lets the library lock with OS
 * primitives; without it SoftHSM2 2.6.1 crashed the process under concurrent calls
 * (measurements.md "Pitfalls seen"). A missing or broken library is ProviderUnavailableError.
 */
export function loadPkcs11Module(provider: string, library: string): Module {
  const hit = loaded.get(library);
  if (hit) return hit.module;
  let module: Module | undefined;
  try {
    module = Module.load(library, provider);
    module.initialize({ flags: CKF_OS_LOCKING_OK });
  } catch (e) {
    try {
      module?.close();
    } catch {
      // The load failed half-way; nothing else holds this handle.
    }
    throw new ProviderUnavailableError(
      provider,
      `cannot load PKCS#11 library ${library}: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  loaded.set(library, { module, softhsmConf: process.env.SOFTHSM2_CONF });
  return module;
}

/** SOFTHSM2_CONF in force when `library` was initialised, or null when it is not loaded yet. */
export function initialisedConf(library: string): string | undefined | null {
  const hit = loaded.get(library);
  return hit ? hit.softhsmConf : null;
}

/** Every slot of `module` that holds a token, whether initialised or not. */
export function slotsWithToken(module: Module): Slot[] {
  const list = module.getSlots(true);
  const out: Slot[] = [];
  for (let i = 0; i < list.length; i++) out.push(list.items(i));
  return out;
}

/** CK_SLOT_ID of a slot (pkcs11js hands handles over as native-endian CK_ULONG buffers). */
export function slotId(slot: Slot): number {
  const h = slot.handle;
  return h.length >= 8 ? Number(h.readBigUInt64LE(0)) : h.readUInt32LE(0);
}

/** A token label without PKCS#11's blank padding (labels are 32 blank-padded bytes). */
export function tokenLabel(slot: Slot): string {
  return slot.getToken().label.trim();
}
