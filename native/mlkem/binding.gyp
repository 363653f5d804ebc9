# ML-KEM-768 (FIPS 203) for the age workers' hybrid KEM (src/crypto/native-mlkem.ts).
# PQClean's "clean" ML-KEM-768 C sources (public domain, CC0) and its FIPS 202 Keccak (public
# domain) come from the pqclean npm package (MIT), pinned in package.json and never built by its
# own install script (`allowScripts`: false), so the build needs no network, like native/bls.
# fips202_wiped.c compiles PQClean's common/fips202.c with its Keccak states wiped before free().
{
  "variables": {
    "pqclean": "../../node_modules/pqclean/deps/PQClean",
    "kem": "<(pqclean)/crypto_kem/ml-kem-768/clean"
  },
  "targets": [
    {
      "target_name": "zoo_mlkem",
      "sources": [
        "mlkem.c",
        "fips202_wiped.c",
        "<(kem)/cbd.c",
        "<(kem)/indcpa.c",
        "<(kem)/kem.c",
        "<(kem)/ntt.c",
        "<(kem)/poly.c",
        "<(kem)/polyvec.c",
        "<(kem)/reduce.c",
        "<(kem)/symmetric-shake.c",
        "<(kem)/verify.c"
      ],
      "include_dirs": ["<(kem)", "<(pqclean)/common", "../common"],
      "cflags": ["-O2", "-fPIC", "-std=c99", "-fvisibility=hidden"]
    }
  ]
}
