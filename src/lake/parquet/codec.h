// Page compression codecs of Parquet (CompressionCodec in parquet.thrift).
//
//   WEFT_ASSIGN_OR_RETURN(std::string packed, Compress(Codec::kZstd, page));
//   WEFT_ASSIGN_OR_RETURN(std::string page2, Decompress(Codec::kZstd, packed, page.size()));
//
// Decompress needs the exact uncompressed size (every Parquet page header carries it) and fails
// with kDataLoss if the data does not decompress to exactly that many bytes. It never allocates
// more than `uncompressed_size`.
//   kGzip     zlib; several concatenated gzip members are read one after the other.
//   kLz4      Hadoop's framing (big-endian sizes before each block); when that does not parse,
//             a raw LZ4 block, then an LZ4 frame, as Arrow and parquet-mr do. Compress writes the
//             Hadoop framing.
//   kLz4Raw   a raw LZ4 block.
//   kLzo      kUnimplemented.
//
// Thread-safety: free functions, safe from any thread.
#ifndef WEFT_LAKE_PARQUET_CODEC_H_
#define WEFT_LAKE_PARQUET_CODEC_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"
#include "lake/parquet/metadata.h"

namespace weft::lake::parquet {

//! "SNAPPY", "ZSTD", ... as parquet.thrift spells them.
std::string_view CodecName(Codec codec);

//! Compresses `input`. `level` 0 means the codec's default level.
Result<std::string> Compress(Codec codec, std::string_view input, int level = 0);

//! Compresses many pages with one codec and level, reusing the zstd context between calls (the
//! other codecs have no context worth keeping). Thread-safety: one thread per instance.
class Compressor {
 public:
  Compressor(Codec codec, int level = 0);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  Codec codec() const { return codec_; }
  //! Appends the compressed form of `input` to *out.
  Status CompressTo(std::string_view input, std::string* out);

 private:
  Codec codec_;
  int level_;
  void* zstd_ctx_ = nullptr;  //!< ZSTD_CCtx*, owned
};

//! Decompresses into out[0, uncompressed_size).
Status DecompressInto(Codec codec, std::string_view input, char* out, size_t uncompressed_size);

Result<std::string> Decompress(Codec codec, std::string_view input, size_t uncompressed_size);

}  // namespace weft::lake::parquet

#endif  // WEFT_LAKE_PARQUET_CODEC_H_
