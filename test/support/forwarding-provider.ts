/**
 * A KeyProvider that forwards every call to a real one, for tests that must hold or fail a
 * provider at an exact moment: a subclass overrides `call` (every operation passes through it) or
 * one method.
 */
import type {
  Algorithm,
  Capabilities,
  KeyProvider,
  SecretRef,
} from '../../src/providers/provider.js';

export class ForwardingProvider implements KeyProvider {
  readonly kind: string;
  readonly name: string;

  constructor(protected readonly inner: KeyProvider) {
    this.kind = inner.kind;
    this.name = inner.name;
  }
  get capabilities(): Capabilities {
    return this.inner.capabilities;
  }
  /** Runs one operation of the provider (not open, forget or close). */
  protected call<T>(operation: () => Promise<T>): Promise<T> {
    return operation();
  }
  open(): Promise<void> {
    return this.inner.open();
  }
  wrap(a: Algorithm, s: Uint8Array): Promise<Uint8Array> {
    return this.call(() => this.inner.wrap(a, s));
  }
  unwrap(a: Algorithm, w: Uint8Array): Promise<Uint8Array> {
    return this.call(() => this.inner.unwrap(a, w));
  }
  hmacSha256(r: SecretRef, d: Uint8Array): Promise<Uint8Array> {
    return this.call(() => this.inner.hmacSha256(r, d));
  }
  aesGcmEncrypt(r: SecretRef, iv: Uint8Array, p: Uint8Array, aad: Uint8Array) {
    return this.call(() => this.inner.aesGcmEncrypt(r, iv, p, aad));
  }
  aesGcmDecrypt(r: SecretRef, iv: Uint8Array, c: Uint8Array, aad: Uint8Array) {
    return this.call(() => this.inner.aesGcmDecrypt(r, iv, c, aad));
  }
  sign(r: SecretRef, i: Uint8Array): Promise<Uint8Array> {
    return this.call(() => this.inner.sign(r, i));
  }
  forget(prefix: string): void {
    this.inner.forget(prefix);
  }
  health(): Promise<void> {
    return this.call(() => this.inner.health());
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
