/*
 * PQClean's common/fips202.c as it is, except that each Keccak state it allocates (for SHAKE128
 * over the public seed, SHAKE256 over the secret noise seed and the rejection key z) is wiped
 * before it goes back to the allocator: fips202.c frees them as they are. Every allocation there
 * is a context of PQC_SHAKECTX_BYTES (the 25 lanes) or PQC_SHAKEINCCTX_BYTES (the lanes and a
 * position), so wiping the first PQC_SHAKECTX_BYTES clears the state.
 */
#include <stdlib.h>
#include "fips202.h"

static void free_wiped(uint64_t *ctx) {
  volatile unsigned char *v = (volatile unsigned char *)ctx;
  size_t n = ctx ? PQC_SHAKECTX_BYTES : 0;
  while (n--) *v++ = 0;
  free(ctx);
}

#define free(p) free_wiped(p)
#include "fips202.c"
