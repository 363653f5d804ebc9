/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Cloud KMS uses for its
 * request and response integrity fields ("Verifying end-to-end data integrity", Cloud KMS docs).
 * Node 20 has no CRC32C (zlib.crc32 is the IEEE polynomial), so this is the table-driven form of
 * RFC 3720 appendix B.4, whose published vectors the tests replay.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
