/**
 * Vendors are settings of the one generic PKCS#11 provider (STYLE.md rule 2): a default library
 * path and the mechanism quirks that change what runs inside the device. Only `softhsm2` is
 * measured here; the others follow their vendors' documentation and are narrowed at open() to the
 * mechanisms the token really lists (C_GetMechanismList), so a wrong entry degrades to "software,
 * wrapped by the device" instead of failing requests. docs/providers.md explains each entry.
 */
import type { Capabilities, DeviceSignAlgorithm } from '../provider.js';
import { CKM } from './constants.js';

export type VendorName = 'softhsm2' | 'yubihsm2' | 'nitrokey' | 'zymbit' | 'luna' | 'aws-cloudhsm';

export interface VendorSettings {
  /** Default library path; null when there is no conventional one and config must name it. */
  readonly library: string | null;
  /** The RFC 5649 wrap mechanism used with C_WrapKey/C_UnwrapKey; null when the device has none. */
  readonly kwpMechanism: number | null;
  /**
   * C_WrapKey zero-pads the key value to a multiple of 8 bytes before RFC 5649, so the length in
   * the blob is the padded one (SoftHSM2 2.6.1, measured; AWS CloudHSM's "zero padding" wrap).
   */
  readonly kwpZeroPads: boolean;
  /** Shortest HMAC key the device accepts, or null for no in-device HMAC. */
  readonly hmacMinKeyBytes: number | null;
  /** AES-256-GCM with a caller-chosen 12-byte IV. */
  readonly aesGcm: boolean;
  /** Algorithms whose PKCS#8 key the device can C_UnwrapKey into a signing key. */
  readonly sign: readonly DeviceSignAlgorithm[];
  /** `measured`: tested in this repository; `documented`: from vendor documentation only. */
  readonly evidence: 'measured' | 'documented';
}

export const VENDORS: Readonly<Record<VendorName, VendorSettings>> = Object.freeze({
  softhsm2: {
    library: '/usr/lib/softhsm/libsofthsm2.so',
    kwpMechanism: CKM.AES_KEY_WRAP_PAD,
    kwpZeroPads: true,
    // CKR_KEY_SIZE_RANGE below 32 bytes (measurements.md).
    hmacMinKeyBytes: 32,
    aesGcm: true,
    // 2.6.1 neither wraps nor unwraps Ed25519 private keys (CKR_KEY_NOT_WRAPPABLE / CKR_FUNCTION_FAILED).
    sign: ['p-256', 'secp256k1'],
    evidence: 'measured',
  },
  yubihsm2: {
    library: '/usr/lib/x86_64-linux-gnu/pkcs11/yubihsm_pkcs11.so',
    // YubiHSM 2 wraps only with its own AES-CCM wrap keys; its AES-KWP is "internal use only".
    kwpMechanism: null,
    kwpZeroPads: false,
    hmacMinKeyBytes: null,
    aesGcm: false,
    sign: [],
    evidence: 'documented',
  },
  nitrokey: {
    // Nitrokey HSM 2 through OpenSC: no AES key wrap for arbitrary secrets.
    library: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
    kwpMechanism: null,
    kwpZeroPads: false,
    hmacMinKeyBytes: null,
    aesGcm: false,
    sign: [],
    evidence: 'documented',
  },
  zymbit: {
    library: null,
    kwpMechanism: null,
    kwpZeroPads: false,
    hmacMinKeyBytes: null,
    aesGcm: false,
    sign: [],
    evidence: 'documented',
  },
  luna: {
    library: '/usr/safenet/lunaclient/lib/libCryptoki2_64.so',
    // Luna uses the v3.0 name for RFC 5649 (SoftHSMv2 issue #726).
    kwpMechanism: CKM.AES_KEY_WRAP_KWP,
    kwpZeroPads: false,
    hmacMinKeyBytes: 32,
    aesGcm: true,
    sign: ['p-256', 'secp256k1'],
    evidence: 'documented',
  },
  'aws-cloudhsm': {
    library: '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so',
    kwpMechanism: CKM.AES_KEY_WRAP_PAD,
    kwpZeroPads: true,
    hmacMinKeyBytes: 32,
    // CloudHSM generates the GCM IV itself; a caller-chosen IV is not accepted.
    aesGcm: false,
    sign: ['p-256', 'secp256k1'],
    evidence: 'documented',
  },
});

export function vendorSettings(name: VendorName): VendorSettings {
  return VENDORS[name];
}

/**
 * What the provider runs inside the device: the vendor's settings, narrowed to the mechanisms the
 * token lists when `listed` is given (C_GetMechanismList at open()).
 */
export function capabilitiesOf(v: VendorSettings, listed?: ReadonlySet<number>): Capabilities {
  const has = (m: number): boolean => listed === undefined || listed.has(m);
  return Object.freeze({
    hmac:
      v.hmacMinKeyBytes !== null && has(CKM.SHA256_HMAC)
        ? { minKeyBytes: v.hmacMinKeyBytes }
        : null,
    aesGcm: v.aesGcm && has(CKM.AES_GCM),
    sign: Object.freeze(v.sign.filter((a) => has(a === 'ed25519' ? CKM.EDDSA : CKM.ECDSA))),
  });
}
