# AES-256-GCM in one call over the OpenSSL node is built with and exports (src/crypto/aead.ts).
# Nothing is fetched: the headers are node's own (include/node/openssl), and the symbols resolve
# against the node binary when the addon loads.
{
  "targets": [
    {
      "target_name": "zoo_aead",
      "sources": ["zoo_aead.c"],
      "include_dirs": ["../common"],
      "cflags": ["-O2", "-fPIC", "-std=c99", "-fvisibility=hidden"]
    }
  ]
}
