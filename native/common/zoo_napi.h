/*
 * Node-API helpers shared by our addons (native/bls, native/mlkem, native/aead), each compiled
 * into its own addon: the argument-refusal shape and the byte answers they all use.
 */
#ifndef ZOO_NAPI_H
#define ZOO_NAPI_H

#include <node_api.h>

/* Returns NULL (a pending JavaScript exception, or a failed call) unless `call` is napi_ok. */
#define CHECK(call) do { if ((call) != napi_ok) return NULL; } while (0)

/* Throws a TypeError with `msg`; the caller returns what this returns. */
static inline napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* A new Uint8Array of n bytes in an ArrayBuffer of its own; *data points at its memory. */
static inline napi_value new_bytes(napi_env env, size_t n, unsigned char **data) {
  napi_value ab, out;
  CHECK(napi_create_arraybuffer(env, n, (void **)data, &ab));
  CHECK(napi_create_typedarray(env, napi_uint8_array, n, ab, 0, &out));
  return out;
}

#endif
