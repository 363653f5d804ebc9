/*
 * zoo_bls: the native BLS12-381 path of Zoo KMS (min-pubkey-size: public keys in G1, signatures
 * in G2), over blst. Every entry point takes the hash-to-curve tag (DST) as an argument, because
 * the Zoo/Lux default is the NUL tag while Ethereum and avalanchego use POP (RFC 9380, sec. 3.1;
 * draft-irtf-cfrg-bls-signature-05, sec. 4.2).
 *
 * Secret scalars live only on this stack frame and are wiped before return.
 */
#include <string.h>
#include "blst.h"
#include "zoo_napi.h"

static void wipe(void *p, size_t n) {
  volatile unsigned char *v = (volatile unsigned char *)p;
  while (n--) *v++ = 0;
}

static int get_bytes(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &off) != napi_ok) return 0;
  return type == napi_uint8_array;
}

static napi_value make_buffer(napi_env env, const unsigned char *src, size_t n) {
  napi_value out;
  void *dst;
  CHECK(napi_create_buffer_copy(env, n, src, &dst, &out));
  return out;
}

/* Reads a 32-byte big-endian secret scalar; refuses zero and values >= r (blst_sk_check). */
static int read_sk(blst_scalar *sk, const unsigned char *bytes, size_t len) {
  if (len != 32) return 0;
  blst_scalar_from_bendian(sk, bytes);
  return blst_sk_check(sk);
}

/* publicKey(sk: Uint8Array(32)) -> Buffer(48), compressed G1. */
static napi_value public_key(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  unsigned char *skb, out[48];
  size_t skl;
  blst_scalar sk;
  blst_p1 pk;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_bytes(env, argv[0], &skb, &skl)) return type_error(env, "secretKey must be a Uint8Array");
  if (!read_sk(&sk, skb, skl)) { wipe(&sk, sizeof sk); return type_error(env, "invalid secret key"); }
  blst_sk_to_pk_in_g1(&pk, &sk);
  wipe(&sk, sizeof sk);
  blst_p1_compress(out, &pk);
  return make_buffer(env, out, 48);
}

/* sign(sk: Uint8Array(32), msg: Uint8Array, dst: Uint8Array) -> Buffer(96), compressed G2. */
static napi_value sign(napi_env env, napi_callback_info info) {
  size_t argc = 3, skl, ml, dl;
  napi_value argv[3];
  unsigned char *skb, *msg, *dst, out[96];
  blst_scalar sk;
  blst_p2 h, sig;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || !get_bytes(env, argv[0], &skb, &skl) || !get_bytes(env, argv[1], &msg, &ml) ||
      !get_bytes(env, argv[2], &dst, &dl))
    return type_error(env, "sign(secretKey, message, dst) takes three Uint8Arrays");
  if (dl == 0 || dl > 255) return type_error(env, "dst must be 1 to 255 bytes");
  if (!read_sk(&sk, skb, skl)) { wipe(&sk, sizeof sk); return type_error(env, "invalid secret key"); }
  blst_hash_to_g2(&h, msg, ml, dst, dl, NULL, 0);
  blst_sign_pk_in_g1(&sig, &h, &sk); /* constant-time scalar multiplication */
  wipe(&sk, sizeof sk);
  blst_p2_compress(out, &sig);
  return make_buffer(env, out, 96);
}

/* Decodes a compressed G1 public key: on the curve, in the subgroup, not the identity. */
static int read_pk(blst_p1_affine *pk, const unsigned char *b) {
  if (blst_p1_uncompress(pk, b) != BLST_SUCCESS) return 0;
  return !blst_p1_affine_is_inf(pk) && blst_p1_affine_in_g1(pk);
}

/*
 * verify(publicKeys: Uint8Array(48*n), msg, sig: Uint8Array(96), dst) -> number:
 * 1 valid, 0 invalid, -1 a malformed public key, -2 a malformed signature. With n > 1 the keys are
 * aggregated first (FastAggregateVerify, draft-irtf-cfrg-bls-signature-05 sec. 3.3.4).
 */
static napi_value verify(napi_env env, napi_callback_info info) {
  size_t argc = 4, pl, ml, sl, dl, i;
  napi_value argv[4], out;
  unsigned char *pks, *msg, *sigb, *dst;
  blst_p1_affine pk;
  blst_p1 agg;
  blst_p2_affine sig;
  int result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !get_bytes(env, argv[0], &pks, &pl) || !get_bytes(env, argv[1], &msg, &ml) ||
      !get_bytes(env, argv[2], &sigb, &sl) || !get_bytes(env, argv[3], &dst, &dl))
    return type_error(env, "verify(publicKeys, message, signature, dst) takes four Uint8Arrays");
  if (pl == 0 || pl % 48 != 0) result = -1;
  else if (sl != 96 || blst_p2_uncompress(&sig, sigb) != BLST_SUCCESS || !blst_p2_affine_in_g2(&sig)) result = -2;
  else {
    result = 1;
    for (i = 0; i < pl / 48 && result == 1; i++) {
      if (!read_pk(&pk, pks + 48 * i)) result = -1;
      else if (i == 0) blst_p1_from_affine(&agg, &pk);
      else blst_p1_add_or_double_affine(&agg, &agg, &pk);
    }
    if (result == 1) {
      blst_p1_to_affine(&pk, &agg);
      result = blst_core_verify_pk_in_g1(&pk, &sig, 1, msg, ml, dst, dl, NULL, 0) == BLST_SUCCESS;
    }
  }
  CHECK(napi_create_int32(env, result, &out));
  return out;
}

/* g1Valid(bytes48) / g2Valid(bytes96): compressed point decodes, lies in the subgroup (identity allowed). */
static napi_value point_valid(napi_env env, napi_callback_info info, int g2) {
  size_t argc = 1, len;
  napi_value argv[1], out;
  unsigned char *b;
  blst_p1_affine p1;
  blst_p2_affine p2;
  int ok = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_bytes(env, argv[0], &b, &len)) return type_error(env, "point must be a Uint8Array");
  if (!g2 && len == 48) ok = blst_p1_uncompress(&p1, b) == BLST_SUCCESS && blst_p1_affine_in_g1(&p1);
  if (g2 && len == 96) ok = blst_p2_uncompress(&p2, b) == BLST_SUCCESS && blst_p2_affine_in_g2(&p2);
  CHECK(napi_get_boolean(env, ok, &out));
  return out;
}
static napi_value g1_valid(napi_env env, napi_callback_info info) { return point_valid(env, info, 0); }
static napi_value g2_valid(napi_env env, napi_callback_info info) { return point_valid(env, info, 1); }

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"publicKey", NULL, public_key, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sign", NULL, sign, NULL, NULL, NULL, napi_enumerable, NULL},
    {"verify", NULL, verify, NULL, NULL, NULL, napi_enumerable, NULL},
    {"g1Valid", NULL, g1_valid, NULL, NULL, NULL, napi_enumerable, NULL},
    {"g2Valid", NULL, g2_valid, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
