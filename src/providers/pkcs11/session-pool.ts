/**
 * Sessions for cryptographic operations (sign, encrypt, decrypt), apart from the session that owns
 * the root key handle and the cached objects. A session whose call failed is closed instead of
 * reused: a failed call may leave its operation active (SoftHSM2 2.6.1 answers an empty C_Sign
 * with CKR_ARGUMENTS_BAD and then CKR_OPERATION_ACTIVE to the next C_SignInit, measured here),
 * and opening a session is cheap (1,000 in ~9 ms, measurements.md).
 */
import { SessionFlag, type Session, type Slot } from 'graphene-pk11';
import { closeQuietly } from './token.js';

export class SessionPool {
  private free: Session[] = [];

  constructor(
    private readonly slot: Slot,
    private readonly max = 4,
  ) {}

  /** Runs `fn` on an idle session (session objects are visible to every session of the process). */
  run<T>(fn: (session: Session) => T): T {
    const session = this.free.pop() ?? this.slot.open(SessionFlag.SERIAL_SESSION);
    let out: T;
    try {
      out = fn(session);
    } catch (e) {
      closeQuietly(session);
      throw e;
    }
    if (this.free.length < this.max) this.free.push(session);
    else closeQuietly(session);
    return out;
  }

  close(): void {
    for (const s of this.free) closeQuietly(s);
    this.free = [];
  }
}
