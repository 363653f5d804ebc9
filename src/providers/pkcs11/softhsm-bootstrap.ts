/**
 * The embedded default token (CONFIG.md: "SoftHSM2 token in the data dir"): a SoftHSM2 token
 * directory of our own under `dir`, never the system one (/var/lib/softhsm), with random SO and
 * user PINs in 0600 files beside it. Idempotent: a later start finds the token and reuses the PINs.
 *
 * SoftHSM2 reads SOFTHSM2_CONF once, at C_Initialize, so this must run before anything in the
 * process loads the library; when the library is already loaded under another configuration it
 * throws rather than create the token in the wrong place. Synchronous, like PKCS#11 itself.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SessionFlag, UserType, type Module, type Slot } from 'graphene-pk11';
import { CKF_TOKEN_INITIALIZED } from './constants.js';
import { initialisedConf, loadPkcs11Module, slotsWithToken, tokenLabel } from './module.js';
import { VENDORS } from './vendors.js';

export interface SoftHsmTokenOptions {
  /** Directory for the configuration, token store and PIN files (e.g. `data/softhsm`). */
  readonly dir: string;
  /** Token label, at most 32 bytes. */
  readonly label: string;
  /** Default: the softhsm2 vendor setting. */
  readonly library?: string;
}

export interface SoftHsmToken {
  readonly library: string;
  readonly tokenLabel: string;
  /** The user PIN file (0600), for the provider's `pin_file`. */
  readonly pinFile: string;
  /** The softhsm2.conf that SOFTHSM2_CONF points at. */
  readonly confPath: string;
}

const PROVIDER = 'softhsm2 bootstrap';

export function ensureSoftHsmToken(opts: SoftHsmTokenOptions): SoftHsmToken {
  if (Buffer.byteLength(opts.label) > 32)
    throw new Error(`${PROVIDER}: token label "${opts.label}" is longer than 32 bytes`);
  const library = opts.library ?? VENDORS.softhsm2.library!;
  const dir = path.resolve(opts.dir);
  const confPath = writeConf(dir);
  selectConf(library, confPath);
  const module = loadPkcs11Module(PROVIDER, library);
  const pinFile = path.join(dir, 'user.pin');
  const soPinFile = path.join(dir, 'so.pin');
  if (!findToken(module, opts.label)) {
    initToken(module, opts.label, readOrCreatePin(soPinFile), readOrCreatePin(pinFile));
  } else if (!existsSync(pinFile)) {
    throw new Error(
      `${PROVIDER}: token "${opts.label}" exists in ${dir} but ${pinFile} is missing`,
    );
  }
  return { library, tokenLabel: opts.label, pinFile, confPath };
}

/** Writes `${dir}/softhsm2.conf` (and the token directory) unless it already says the same. */
function writeConf(dir: string): string {
  const tokens = path.join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true, mode: 0o700 });
  const confPath = path.join(dir, 'softhsm2.conf');
  const conf = [
    `directories.tokendir = ${tokens}`,
    'objectstore.backend = file',
    'log.level = ERROR',
    '',
  ].join('\n');
  if (!existsSync(confPath) || readFileSync(confPath, 'utf8') !== conf)
    writeFileSync(confPath, conf, { mode: 0o600 });
  return confPath;
}

function selectConf(library: string, confPath: string): void {
  const atInit = initialisedConf(library);
  if (atInit === null) {
    process.env.SOFTHSM2_CONF = confPath;
    return;
  }
  if (atInit !== confPath) {
    throw new Error(
      `${PROVIDER}: ${library} was initialised in this process with SOFTHSM2_CONF=${atInit ?? '(unset)'}; ` +
        `it cannot switch to ${confPath} (SoftHSM2 reads it once, at C_Initialize)`,
    );
  }
}

function findToken(module: Module, label: string): Slot | undefined {
  return slotsWithToken(module).find((s) => isInitialised(s) && tokenLabel(s) === label);
}

function isInitialised(slot: Slot): boolean {
  return (slot.getToken().flags & CKF_TOKEN_INITIALIZED) !== 0;
}

/** A PIN file's content, or a new random PIN written exclusively with mode 0600. */
function readOrCreatePin(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const pin = randomBytes(24).toString('base64url');
  writeFileSync(file, `${pin}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return pin;
}

/**
 * C_InitToken in the first free slot, then the SO sets the user PIN (C_InitPIN). SoftHSM2 moves
 * an initialised token to a new slot id, so the token is looked up again by label afterwards.
 */
function initToken(module: Module, label: string, soPin: string, userPin: string): void {
  const free = slotsWithToken(module).find((s) => !isInitialised(s));
  if (!free) throw new Error(`${PROVIDER}: no free SoftHSM2 slot to initialise token "${label}"`);
  // pkcs11js 2.1.7's C_InitToken returns nothing, which graphene 2.3.6's Slot.initToken then
  // tries to trim (a TypeError after the token was made), so the call goes to pkcs11js directly.
  free.lib.C_InitToken(free.handle, soPin, label);
  const slot = findToken(module, label);
  if (!slot) throw new Error(`${PROVIDER}: token "${label}" did not appear after C_InitToken`);
  const session = slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
  try {
    session.login(soPin, UserType.SO);
    session.initPin(userPin);
    session.logout();
  } finally {
    session.close();
  }
}
