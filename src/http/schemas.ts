/** Request schema pieces shared by routes (and so by the OpenAPI document). */
import Type from 'typebox';

export const KeyName = Type.String({
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
  description: 'key name',
});

/** A 64-bit value: a decimal string, or a JSON integer up to 2^53-1 (API.md "Conventions"). */
export const U64 = Type.Union(
  [Type.String({ pattern: '^[0-9]{1,20}$' }), Type.Integer({ minimum: 0 })],
  {
    description: 'decimal string, or a JSON integer up to 2^53-1',
  },
);
