/**
 * Vendors are settings of the one generic PKCS#11 provider (STYLE.md rule 2): a default library
 * path, what the PIN file must hold, which RFC 5649 mechanism wraps, and the mechanism quirks that
 * change what runs inside the device. Only `softhsm2` is measured here (`aws-cloudhsm` runs on
 * SoftHSM2 standing in for its library in the tests); the others follow their vendors'
 * documentation and are narrowed at open() to the mechanisms the token really lists
 * (C_GetMechanismList), so a wrong entry degrades to "software, wrapped by the device" instead of
 * failing requests. docs/providers.md explains each entry and cites its source.
 */
import type { Capabilities, DeviceSignAlgorithm } from '../provider.js';
import { CKM } from './constants.js';

export type VendorName = 'softhsm2' | 'yubihsm2' | 'nitrokey' | 'zymbit' | 'luna' | 'aws-cloudhsm';

export interface VendorSettings {
  /** Default library path; null when there is no conventional one and config must name it. */
  readonly library: string | null;
  /**
   * RFC 5649 wrap mechanisms for C_WrapKey/C_UnwrapKey, in order of preference: open() uses the
   * first one the token lists. Empty when the device has none: it cannot hold the root key.
   */
  readonly kwpMechanisms: readonly number[];
  /** Why a device without `kwpMechanisms` cannot be a provider; shown at start. */
  readonly refusal?: string;
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
  /** What the vendor library expects as the PIN (C_Login), checked before login; null: anything. */
  readonly pin: { readonly pattern: RegExp; readonly form: string } | null;
  /** `measured`: tested in this repository; `documented`: from vendor documentation only. */
  readonly evidence: 'measured' | 'documented';
}

/** CloudHSM Client SDK 5's RFC 5649 with zero padding (CKM_VENDOR_DEFINED | 0x216F). */
export const CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD = 0x8000216f;

const NO_WRAP = {
  kwpMechanisms: [],
  kwpZeroPads: false,
  hmacMinKeyBytes: null,
  aesGcm: false,
  sign: [],
  evidence: 'documented',
} as const;

export const VENDORS: Readonly<Record<VendorName, VendorSettings>> = Object.freeze({
  softhsm2: {
    library: '/usr/lib/softhsm/libsofthsm2.so',
    kwpMechanisms: [CKM.AES_KEY_WRAP_PAD],
    kwpZeroPads: true,
    // CKR_KEY_SIZE_RANGE below 32 bytes (measurements.md).
    hmacMinKeyBytes: 32,
    aesGcm: true,
    // 2.6.1 neither wraps nor unwraps Ed25519 private keys (CKR_KEY_NOT_WRAPPABLE / CKR_FUNCTION_FAILED).
    sign: ['p-256', 'secp256k1'],
    pin: null,
    evidence: 'measured',
  },
  yubihsm2: {
    ...NO_WRAP,
    library: '/usr/lib/x86_64-linux-gnu/pkcs11/yubihsm_pkcs11.so',
    refusal:
      'YubiHSM 2 wraps only its own objects, with its AES-CCM wrap keys (CKM_YUBICO_AES_CCM_WRAP): ' +
      'an unwrap imports a persistent object into its 256-object store, and it has no RFC 5649 ' +
      'C_WrapKey for a byte string',
    // yubihsm_pkcs11: the first 4 characters are the authentication key id in hex, then its password.
    pin: {
      pattern: /^[0-9a-fA-F]{4}.+$/,
      form: 'the 4-hex-digit authentication key id, then its password (e.g. 0001password)',
    },
  },
  nitrokey: {
    ...NO_WRAP,
    // Nitrokey HSM 2 (SmartCard-HSM) through OpenSC.
    library: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so',
    refusal:
      'the Nitrokey HSM 2 (SmartCard-HSM through OpenSC) lists no RFC 5649 AES key wrap; its only ' +
      'key export is the DKEK backup of its own keys',
    pin: { pattern: /^.{6,16}$/, form: 'the user PIN, 6 to 16 characters' },
  },
  zymbit: {
    ...NO_WRAP,
    library: null,
    refusal: 'Zymbit modules document no AES key wrap (their keys are ECC keys held in the module)',
    pin: null,
  },
  luna: {
    library: '/usr/safenet/lunaclient/lib/libCryptoki2_64.so',
    // Luna uses the v3.0 name for RFC 5649 (SoftHSMv2 issue #726).
    kwpMechanisms: [CKM.AES_KEY_WRAP_KWP],
    kwpZeroPads: false,
    hmacMinKeyBytes: 32,
    aesGcm: true,
    sign: ['p-256', 'secp256k1'],
    pin: null,
    evidence: 'documented',
  },
  'aws-cloudhsm': {
    library: '/opt/cloudhsm/lib/libcloudhsm_pkcs11.so',
    // Client SDK 5 names RFC 5649 with zero padding CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD; SDK 3 and
    // the SoftHSM2 stand-in call it CKM_AES_KEY_WRAP_PAD (AWS "Client SDK 5 migration": SDK 3's
    // CKM_AES_KEY_WRAP_PAD is SDK 5's ZERO_PAD). The vendor number comes first, so an SDK 5
    // library never gets 0x210A, whatever it means there.
    kwpMechanisms: [CKM_CLOUDHSM_AES_KEY_WRAP_ZERO_PAD, CKM.AES_KEY_WRAP_PAD],
    kwpZeroPads: true,
    hmacMinKeyBytes: 32,
    // CloudHSM generates the GCM IV itself; a caller-chosen IV is not accepted.
    aesGcm: false,
    sign: ['p-256', 'secp256k1'],
    // The library logs in a crypto user (CU) given as "user:password".
    pin: { pattern: /^[^:]+:.+$/, form: '<crypto user>:<password>' },
    evidence: 'documented',
  },
});

export function vendorSettings(name: VendorName): VendorSettings {
  return VENDORS[name];
}

/**
 * Checks, before anything is loaded, that `vendor` can be a provider here (it can hold a root key);
 * throws an Error naming the provider and the reason.
 */
export function checkVendor(provider: string, vendor: VendorName): void {
  const v = VENDORS[vendor];
  if (v.kwpMechanisms.length > 0) return;
  throw new Error(
    `pkcs11 provider ${provider}: ${vendor} cannot hold the KMS root key: ${v.refusal ?? 'no RFC 5649 key wrap'}. ` +
      'Every provider keeps a root key and wraps every secret under it (docs/providers.md)',
  );
}

/** The PIN form `vendor`'s library expects when `pin` does not have it (config, before C_Login). */
export function pinFormMismatch(vendor: VendorName, pin: string): string | undefined {
  const form = VENDORS[vendor].pin;
  return form && !form.pattern.test(pin) ? form.form : undefined;
}

/** The first of the vendor's RFC 5649 mechanisms that the token lists, or undefined. */
export function kwpMechanismOf(v: VendorSettings, listed: ReadonlySet<number>): number | undefined {
  return v.kwpMechanisms.find((m) => listed.has(m));
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
