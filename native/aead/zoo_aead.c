/*
 * zoo_aead: AES-256-GCM (NIST SP 800-38D) in one call each way, over the OpenSSL that node itself
 * is built with and exports (its EVP interface; the headers ship with node in include/node/openssl).
 * It is the implementation node:crypto's createCipheriv uses, without the stream object, the key
 * object and the copies JavaScript makes around every call (src/crypto/aead.ts says why).
 *
 * Only 96-bit IVs and 128-bit tags. Each call has its own cipher context, reset (its key schedule
 * wiped by OpenSSL) and freed before it returns, so nothing of a key outlives the call here.
 */
#include <limits.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "zoo_napi.h"

#define KEY_BYTES 32
#define IV_BYTES 12
#define TAG_BYTES 16

/* A Uint8Array's bytes; NULL data is fine for an empty one (never dereferenced then). */
static int get_bytes(napi_env env, napi_value v, unsigned char **data, size_t *len) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, (void **)data, &ab, &off) != napi_ok) return 0;
  return type == napi_uint8_array && *len <= INT_MAX - TAG_BYTES;
}

/* AES-256-GCM fetched once from OpenSSL's default provider (an implicit fetch per call costs more
 * than the 1 KiB it encrypts); EVP_CIPHER objects are immutable and shared between threads. */
static EVP_CIPHER *aes_gcm;
static pthread_once_t aes_gcm_once = PTHREAD_ONCE_INIT;
static void fetch_aes_gcm(void) { aes_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL); }

struct args {
  unsigned char *key, *iv, *in, *aad;
  size_t key_len, iv_len, in_len, aad_len;
};

static int read_args(napi_env env, napi_callback_info info, struct args *a) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4) return 0;
  if (!get_bytes(env, argv[0], &a->key, &a->key_len) || a->key_len != KEY_BYTES) return 0;
  if (!get_bytes(env, argv[1], &a->iv, &a->iv_len) || a->iv_len != IV_BYTES) return 0;
  if (!get_bytes(env, argv[2], &a->in, &a->in_len)) return 0;
  return get_bytes(env, argv[3], &a->aad, &a->aad_len);
}

/* One GCM pass over a->in into out (enc: 1 seal, 0 open); for open, tag is checked by Final. */
static int gcm(const struct args *a, unsigned char *out, size_t n, unsigned char *tag, int enc) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  unsigned char end[TAG_BYTES]; /* GCM's Final writes no bytes; out may be empty (NULL) */
  int len, ok = ctx != NULL &&
                EVP_CipherInit_ex2(ctx, aes_gcm, a->key, a->iv, enc, NULL) == 1;
  if (ok && a->aad_len > 0) ok = EVP_CipherUpdate(ctx, NULL, &len, a->aad, (int)a->aad_len) == 1;
  if (ok && n > 0) ok = EVP_CipherUpdate(ctx, out, &len, a->in, (int)n) == 1 && (size_t)len == n;
  if (ok && !enc) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, tag) == 1;
  if (ok) ok = EVP_CipherFinal_ex(ctx, end, &len) == 1 && len == 0;
  if (ok && enc) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, tag) == 1;
  EVP_CIPHER_CTX_free(ctx); /* resets first: OpenSSL wipes the key schedule it held */
  return ok;
}

/* seal(key(32), iv(12), plaintext, aad) -> Uint8Array: ciphertext || tag(16). */
static napi_value aead_seal(napi_env env, napi_callback_info info) {
  struct args a;
  unsigned char *out;
  napi_value result;
  if (!read_args(env, info, &a))
    return type_error(env, "seal takes key (32 bytes), iv (12 bytes), plaintext and aad as Uint8Arrays");
  result = new_bytes(env, a.in_len + TAG_BYTES, &out);
  if (result == NULL) return NULL;
  if (!gcm(&a, out, a.in_len, out + a.in_len, 1)) {
    OPENSSL_cleanse(out, a.in_len + TAG_BYTES);
    return type_error(env, "AES-256-GCM encryption failed");
  }
  return result;
}

/* open(key(32), iv(12), ciphertext || tag, aad) -> Uint8Array plaintext, or null if the tag is wrong. */
static napi_value aead_open(napi_env env, napi_callback_info info) {
  struct args a;
  unsigned char *out;
  napi_value result, null;
  size_t n;
  if (!read_args(env, info, &a))
    return type_error(env, "open takes key (32 bytes), iv (12 bytes), sealed and aad as Uint8Arrays");
  CHECK(napi_get_null(env, &null));
  if (a.in_len < TAG_BYTES) return null;
  n = a.in_len - TAG_BYTES;
  result = new_bytes(env, n, &out);
  if (result == NULL) return NULL;
  if (!gcm(&a, out, n, a.in + n, 0)) {
    OPENSSL_cleanse(out, n); /* unauthenticated plaintext must not be handed out or linger */
    return null;
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"seal", NULL, aead_seal, NULL, NULL, NULL, napi_enumerable, NULL},
    {"open", NULL, aead_open, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  pthread_once(&aes_gcm_once, fetch_aes_gcm);
  if (aes_gcm == NULL) return type_error(env, "OpenSSL has no AES-256-GCM");
  CHECK(napi_define_properties(env, exports, 2, props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
