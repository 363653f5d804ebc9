/*
 * zoo_mlkem: ML-KEM-768 (FIPS 203) for the age workers' hybrid KEM, over PQClean's "clean"
 * implementation (constant-time; see binding.gyp for where the sources come from). Only the
 * deterministic entry points are exposed, with the randomness given by the caller, as
 * @noble/post-quantum's ml_kem768 takes it (src/crypto/native-mlkem.ts):
 *
 *   keygen(coins: 64 bytes, d || z)            -> {publicKey: 1184, secretKey: 2400}
 *   encapsulate(publicKey: 1184, m: 32 bytes)  -> {cipherText: 1088, sharedSecret: 32}
 *   decapsulate(cipherText: 1088, secretKey: 2400) -> sharedSecret: 32
 *
 * Every output is a new Uint8Array written in place, so no secret is copied through this frame.
 * PQClean's own stack frames (the secret vector, the coins, the key before it is returned) are
 * not wiped by PQClean: after each call the stack it used is overwritten (burn_stack).
 */
#include <stdlib.h>
#include <string.h>
#include "fips202.h"
#include "kem.h"
#include "params.h"
#include "randombytes.h"
#include "zoo_napi.h"

#define PK_BYTES KYBER_PUBLICKEYBYTES   /* 1184 */
#define SK_BYTES KYBER_SECRETKEYBYTES   /* 2400 */
#define CT_BYTES KYBER_CIPHERTEXTBYTES  /* 1088 */
#define SS_BYTES KYBER_SSBYTES          /* 32 */
#define EK_T_BYTES KYBER_POLYVECBYTES   /* 1152: ByteEncode12 of t-hat, the key's first part */

/*
 * PQClean's kem.c also has the randomised keypair and enc, which call randombytes. This addon
 * never calls them (the caller gives the randomness); this definition only lets kem.c link, and
 * stops the process rather than hand out a key made from no randomness.
 */
int randombytes(uint8_t *output, size_t n) {
  (void)output;
  (void)n;
  abort();
}

/*
 * Twice PQClean's deepest call here (decapsulation's re-encryption, about 15 KiB by gcc
 * -fstack-usage). The empty asm with a memory clobber keeps the memset from being optimised away.
 */
#define BURN_BYTES (32 * 1024)

static __attribute__((noinline)) void burn_stack(void) {
  unsigned char pad[BURN_BYTES];
  memset(pad, 0, sizeof pad);
  __asm__ __volatile__("" : : "r"(pad) : "memory");
}

static int get_bytes(napi_env env, napi_value v, unsigned char **data, size_t len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t n, off;
  if (napi_get_typedarray_info(env, v, &type, &n, (void **)data, &ab, &off) != napi_ok) return 0;
  return type == napi_uint8_array && n == len;
}

/* FIPS 203 sec. 7.2, input check 2: every ByteDecode12 coefficient of t-hat is below q. */
static int modulus_ok(const unsigned char *pk) {
  size_t i;
  for (i = 0; i < EK_T_BYTES; i += 3) {
    unsigned a = pk[i] | ((unsigned)(pk[i + 1] & 0x0f) << 8);
    unsigned b = (pk[i + 1] >> 4) | ((unsigned)pk[i + 2] << 4);
    if (a >= KYBER_Q || b >= KYBER_Q) return 0;
  }
  return 1;
}

static napi_value pair(napi_env env, const char *k1, napi_value v1, const char *k2, napi_value v2) {
  napi_value out;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_set_named_property(env, out, k1, v1));
  CHECK(napi_set_named_property(env, out, k2, v2));
  return out;
}

/* keygen(coins: Uint8Array(64)) -> {publicKey, secretKey}; ML-KEM.KeyGen_internal(d, z). */
static napi_value keygen(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], pk, sk;
  unsigned char *coins, *pkb, *skb;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !get_bytes(env, argv[0], &coins, 64))
    return type_error(env, "keygen(coins) takes a Uint8Array of 64 bytes");
  if (!(pk = new_bytes(env, PK_BYTES, &pkb)) || !(sk = new_bytes(env, SK_BYTES, &skb))) return NULL;
  PQCLEAN_MLKEM768_CLEAN_crypto_kem_keypair_derand(pkb, skb, coins);
  burn_stack();
  return pair(env, "publicKey", pk, "secretKey", sk);
}

/*
 * encapsulate(publicKey: Uint8Array(1184), m: Uint8Array(32)) -> {cipherText, sharedSecret};
 * ML-KEM.Encaps_internal(ek, m) after FIPS 203's modulus check, which throws.
 */
static napi_value encapsulate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], ct, ss;
  unsigned char *pkb, *m, *ctb, *ssb;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || !get_bytes(env, argv[0], &pkb, PK_BYTES) || !get_bytes(env, argv[1], &m, 32))
    return type_error(env, "encapsulate(publicKey, m) takes Uint8Arrays of 1184 and 32 bytes");
  if (!modulus_ok(pkb)) {
    napi_throw_error(env, NULL, "ML-KEM.encapsulate: wrong publicKey modulus");
    return NULL;
  }
  if (!(ct = new_bytes(env, CT_BYTES, &ctb)) || !(ss = new_bytes(env, SS_BYTES, &ssb))) return NULL;
  PQCLEAN_MLKEM768_CLEAN_crypto_kem_enc_derand(ctb, ssb, pkb, m);
  burn_stack();
  return pair(env, "cipherText", ct, "sharedSecret", ss);
}

/* FIPS 203 sec. 7.3, input check 3: H(ek) stored in the decapsulation key is H of its ek. */
static int hash_ok(const unsigned char *sk) {
  unsigned char h[32], diff = 0;
  size_t i;
  const unsigned char *ek = sk + KYBER_INDCPA_SECRETKEYBYTES;
  sha3_256(h, ek, PK_BYTES);
  for (i = 0; i < 32; i++) diff |= h[i] ^ ek[PK_BYTES + i];
  return diff == 0;
}

/*
 * decapsulate(cipherText: Uint8Array(1088), secretKey: Uint8Array(2400)) -> sharedSecret(32);
 * ML-KEM.Decaps_internal, with implicit rejection (a wrong ciphertext gives SHAKE256(z || c)).
 * A secret key failing the hash check throws.
 */
static napi_value decapsulate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], ss;
  unsigned char *ctb, *skb, *ssb;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || !get_bytes(env, argv[0], &ctb, CT_BYTES) || !get_bytes(env, argv[1], &skb, SK_BYTES))
    return type_error(env, "decapsulate(cipherText, secretKey) takes Uint8Arrays of 1088 and 2400 bytes");
  if (!hash_ok(skb)) {
    napi_throw_error(env, NULL, "invalid secretKey: hash check failed");
    return NULL;
  }
  if (!(ss = new_bytes(env, SS_BYTES, &ssb))) return NULL;
  PQCLEAN_MLKEM768_CLEAN_crypto_kem_dec(ssb, ctb, skb);
  burn_stack();
  return ss;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"keygen", NULL, keygen, NULL, NULL, NULL, napi_enumerable, NULL},
    {"encapsulate", NULL, encapsulate, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decapsulate", NULL, decapsulate, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
