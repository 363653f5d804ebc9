# BLS12-381 signing with any hash-to-curve tag (ARCHITECTURE.md "Signing rules").
# blst's C sources come from the c-kzg npm package (blst is Apache-2.0), so the build needs no
# network: see ../../docs/bls.md for the measurement behind this choice.
{
  "targets": [
    {
      "target_name": "zoo_bls",
      "sources": [
        "zoo_bls.c",
        "../../node_modules/c-kzg/deps/blst/src/server.c",
        "../../node_modules/c-kzg/deps/blst/build/assembly.S"
      ],
      "include_dirs": ["../../node_modules/c-kzg/deps/blst/bindings", "../common"],
      "defines": ["__BLST_PORTABLE__"],
      "cflags": ["-O2", "-fPIC", "-fno-builtin-memcpy"]
    }
  ]
}
