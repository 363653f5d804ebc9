/**
 * Finds secret bytes in text and binary haystacks in every form they could take: raw bytes, hex
 * (either case) and base64 / base64url at each of the three byte alignments a secret can have
 * inside a longer encoded blob (so a key in the middle of an encoded record is found too).
 */

export interface Secret {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Extra literal forms (a token's own text). */
  readonly literals?: readonly string[];
  /** Labels of haystacks that may hold it by design (the response that returned it). */
  readonly allowedIn?: readonly string[];
}

/** Base64 of `bytes` as it appears at offset k (mod 3) of a longer blob, minus the edge characters. */
function base64Forms(bytes: Uint8Array, url: boolean): string[] {
  const forms: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const b = Buffer.concat([Buffer.alloc(pad, 0xff), bytes]).toString(
      url ? 'base64url' : 'base64',
    );
    // The first ceil(pad*4/3) characters mix padding bytes in; the last 4 may mix what follows.
    const start = Math.ceil((pad * 4) / 3);
    forms.push(b.replace(/=+$/, '').slice(start, -4));
  }
  return forms;
}

export function formsOf(s: Secret): string[] {
  const hex = Buffer.from(s.bytes).toString('hex');
  return [
    hex,
    hex.toUpperCase(),
    ...base64Forms(s.bytes, false),
    ...base64Forms(s.bytes, true),
    ...(s.literals ?? []),
  ].filter((f) => f.length >= 16);
}

export interface Finding {
  readonly secret: string;
  readonly where: string;
  readonly form: string;
}

/** Every (secret, haystack) pair where a form of the secret occurs, outside its allowed places. */
export function scan(
  secrets: readonly Secret[],
  haystacks: ReadonlyMap<string, string | Buffer>,
): Finding[] {
  const found: Finding[] = [];
  for (const s of secrets) {
    const forms = formsOf(s);
    for (const [where, hay] of haystacks) {
      if (s.allowedIn?.includes(where)) continue;
      if (typeof hay !== 'string' && hay.includes(Buffer.from(s.bytes)))
        found.push({ secret: s.name, where, form: 'raw bytes' });
      const form = forms.find((f) => hay.includes(f));
      if (form) found.push({ secret: s.name, where, form: form.slice(0, 24) });
    }
  }
  return found;
}
