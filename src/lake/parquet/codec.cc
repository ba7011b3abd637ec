#include "lake/parquet/codec.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

namespace weft::lake::parquet {
namespace {

Status SizeMismatch(Codec codec, size_t got, size_t expected) {
  return DataLossError(std::string(CodecName(codec)) + " data decompressed to " +
                       std::to_string(got) + " bytes, the page header says " +
                       std::to_string(expected));
}

Status Corrupt(Codec codec, std::string_view detail) {
  return DataLossError(std::string(CodecName(codec)) + " data is corrupt: " + std::string(detail));
}

uint32_t LoadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

void StoreBigEndian32(uint32_t v, std::string* out) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

bool FitsInt(size_t n) {
  return n <= static_cast<size_t>(std::numeric_limits<int>::max());
}

Status GzipDecompress(std::string_view input, char* out, size_t out_size) {
  size_t produced = 0;
  size_t consumed = 0;
  // A page may hold several gzip members one after the other (concatenated_gzip_members).
  // Bytes after the member that fills the page are ignored, as zlib-based readers do.
  while (consumed < input.size() && produced < out_size) {
    z_stream z;
    std::memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 32) != Z_OK) return InternalError("zlib inflateInit2 failed");
    const size_t in_avail = std::min<size_t>(input.size() - consumed, UINT32_MAX);
    const size_t out_avail = std::min<size_t>(out_size - produced, UINT32_MAX);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data() + consumed));
    z.avail_in = static_cast<uInt>(in_avail);
    z.next_out = reinterpret_cast<Bytef*>(out + produced);
    z.avail_out = static_cast<uInt>(out_avail);
    const int rc = inflate(&z, Z_FINISH);
    const std::string msg = z.msg != nullptr ? z.msg : "";
    const size_t in_used = in_avail - z.avail_in;
    const size_t out_used = out_avail - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
      if (z.avail_out == 0) {
        return DataLossError("GZIP data decompresses to more than the page header's " +
                             std::to_string(out_size) + " bytes");
      }
      return Corrupt(Codec::kGzip, msg.empty() ? "zlib error " + std::to_string(rc) : msg);
    }
    produced += out_used;
    consumed += in_used;
    if (in_used == 0) break;
  }
  if (produced != out_size) return SizeMismatch(Codec::kGzip, produced, out_size);
  if (consumed < input.size()) {
    // The page is full: what follows must not be another member with data in it.
    z_stream z;
    std::memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 32) != Z_OK) return InternalError("zlib inflateInit2 failed");
    char probe = 0;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data() + consumed));
    z.avail_in = static_cast<uInt>(std::min<size_t>(input.size() - consumed, UINT32_MAX));
    z.next_out = reinterpret_cast<Bytef*>(&probe);
    z.avail_out = 1;
    (void)inflate(&z, Z_NO_FLUSH);
    const bool more = z.avail_out == 0;
    inflateEnd(&z);
    if (more) {
      return DataLossError("GZIP data decompresses to more than the page header's " +
                           std::to_string(out_size) + " bytes");
    }
  }
  return Status::Ok();
}

Status Lz4RawDecompress(std::string_view input, char* out, size_t out_size) {
  if (!FitsInt(input.size()) || !FitsInt(out_size)) return Corrupt(Codec::kLz4Raw, "too large");
  const int n = LZ4_decompress_safe(input.data(), out, static_cast<int>(input.size()),
                                    static_cast<int>(out_size));
  if (n < 0) return Corrupt(Codec::kLz4Raw, "invalid LZ4 block");
  if (static_cast<size_t>(n) != out_size) {
    return SizeMismatch(Codec::kLz4Raw, static_cast<size_t>(n), out_size);
  }
  return Status::Ok();
}

// Hadoop's Lz4Codec: blocks of [BE u32 uncompressed size][BE u32 compressed size][LZ4 block],
// the block's chunks each with its own compressed size. We accept the common one-chunk form,
// repeated.
bool TryHadoopLz4(std::string_view input, char* out, size_t out_size) {
  size_t in = 0;
  size_t produced = 0;
  while (in < input.size()) {
    if (input.size() - in < 8) return false;
    const uint32_t block_uncompressed = LoadBigEndian32(input.data() + in);
    const uint32_t block_compressed = LoadBigEndian32(input.data() + in + 4);
    in += 8;
    if (block_compressed > input.size() - in) return false;
    if (block_uncompressed > out_size - produced) return false;
    const int n =
        LZ4_decompress_safe(input.data() + in, out + produced, static_cast<int>(block_compressed),
                            static_cast<int>(block_uncompressed));
    if (n < 0 || static_cast<uint32_t>(n) != block_uncompressed) return false;
    in += block_compressed;
    produced += block_uncompressed;
  }
  return produced == out_size;
}

bool TryLz4Frame(std::string_view input, char* out, size_t out_size) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION))) return false;
  size_t in_pos = 0;
  size_t out_pos = 0;
  bool ok = false;
  while (true) {
    size_t src = input.size() - in_pos;
    size_t dst = out_size - out_pos;
    const size_t rc =
        LZ4F_decompress(ctx, out + out_pos, &dst, input.data() + in_pos, &src, nullptr);
    if (LZ4F_isError(rc)) break;
    in_pos += src;
    out_pos += dst;
    if (rc == 0) {
      ok = in_pos == input.size() && out_pos == out_size;
      break;
    }
    if (src == 0 && dst == 0) break;  // no progress
  }
  LZ4F_freeDecompressionContext(ctx);
  return ok;
}

}  // namespace

std::string_view CodecName(Codec codec) {
  switch (codec) {
    case Codec::kUncompressed: return "UNCOMPRESSED";
    case Codec::kSnappy: return "SNAPPY";
    case Codec::kGzip: return "GZIP";
    case Codec::kLzo: return "LZO";
    case Codec::kBrotli: return "BROTLI";
    case Codec::kLz4: return "LZ4";
    case Codec::kZstd: return "ZSTD";
    case Codec::kLz4Raw: return "LZ4_RAW";
  }
  return "unknown codec";
}

Status DecompressInto(Codec codec, std::string_view input, char* out, size_t out_size) {
  // An empty page body is written without a codec frame by some writers (page_v2_empty_compressed).
  if (out_size == 0 && input.empty()) return Status::Ok();
  switch (codec) {
    case Codec::kUncompressed:
      if (input.size() != out_size) return SizeMismatch(codec, input.size(), out_size);
      if (out_size > 0) std::memcpy(out, input.data(), out_size);
      return Status::Ok();
    case Codec::kSnappy: {
      size_t n = 0;
      if (snappy_uncompressed_length(input.data(), input.size(), &n) != SNAPPY_OK) {
        return Corrupt(codec, "bad length header");
      }
      if (n != out_size) return SizeMismatch(codec, n, out_size);
      size_t len = out_size;
      if (snappy_uncompress(input.data(), input.size(), out, &len) != SNAPPY_OK) {
        return Corrupt(codec, "invalid snappy stream");
      }
      if (len != out_size) return SizeMismatch(codec, len, out_size);
      return Status::Ok();
    }
    case Codec::kGzip: return GzipDecompress(input, out, out_size);
    case Codec::kBrotli: {
      size_t len = out_size;
      char dummy = 0;
      const BrotliDecoderResult rc =
          BrotliDecoderDecompress(input.size(), reinterpret_cast<const uint8_t*>(input.data()),
                                  &len, reinterpret_cast<uint8_t*>(out_size == 0 ? &dummy : out));
      if (rc != BROTLI_DECODER_RESULT_SUCCESS) {
        return Corrupt(codec, "invalid brotli stream or larger than the page header says");
      }
      if (len != out_size) return SizeMismatch(codec, len, out_size);
      return Status::Ok();
    }
    case Codec::kZstd: {
      char dummy = 0;
      // One decompression context per thread: ZSTD_decompress would create one per page.
      struct Context {
        ZSTD_DCtx* ctx = ZSTD_createDCtx();
        ~Context() { ZSTD_freeDCtx(ctx); }
      };
      thread_local Context context;
      if (context.ctx == nullptr) return InternalError("ZSTD_createDCtx failed");
      const size_t n = ZSTD_decompressDCtx(context.ctx, out_size == 0 ? &dummy : out, out_size,
                                           input.data(), input.size());
      if (ZSTD_isError(n)) return Corrupt(codec, ZSTD_getErrorName(n));
      if (n != out_size) return SizeMismatch(codec, n, out_size);
      return Status::Ok();
    }
    case Codec::kLz4Raw: return Lz4RawDecompress(input, out, out_size);
    case Codec::kLz4:
      if (!FitsInt(input.size()) || !FitsInt(out_size)) return Corrupt(codec, "too large");
      if (TryHadoopLz4(input, out, out_size)) return Status::Ok();
      if (Lz4RawDecompress(input, out, out_size).ok()) return Status::Ok();
      if (TryLz4Frame(input, out, out_size)) return Status::Ok();
      return Corrupt(codec, "neither Hadoop-framed LZ4, a raw LZ4 block nor an LZ4 frame");
    case Codec::kLzo: return UnimplementedError("compression codec LZO is not supported");
  }
  return UnimplementedError("unknown compression codec " + std::to_string(static_cast<int>(codec)));
}

Result<std::string> Decompress(Codec codec, std::string_view input, size_t uncompressed_size) {
  std::string out(uncompressed_size, '\0');
  WEFT_RETURN_IF_ERROR(DecompressInto(codec, input, out.data(), out.size()));
  return out;
}

Result<std::string> Compress(Codec codec, std::string_view input, int level) {
  std::string out;
  switch (codec) {
    case Codec::kUncompressed: return std::string(input);
    case Codec::kSnappy: {
      size_t n = snappy_max_compressed_length(input.size());
      out.resize(n);
      if (snappy_compress(input.data(), input.size(), out.data(), &n) != SNAPPY_OK) {
        return InternalError("snappy_compress failed");
      }
      out.resize(n);
      return out;
    }
    case Codec::kGzip: {
      z_stream z;
      std::memset(&z, 0, sizeof(z));
      if (deflateInit2(&z, level == 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8,
                       Z_DEFAULT_STRATEGY) != Z_OK) {
        return InvalidArgumentError("GZIP: bad compression level " + std::to_string(level));
      }
      out.resize(deflateBound(&z, static_cast<uLong>(input.size())) + 32);
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
      z.avail_in = static_cast<uInt>(input.size());
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      const int rc = deflate(&z, Z_FINISH);
      const size_t n = z.total_out;
      deflateEnd(&z);
      if (rc != Z_STREAM_END) return InternalError("zlib deflate failed: " + std::to_string(rc));
      out.resize(n);
      return out;
    }
    case Codec::kBrotli: {
      size_t n = BrotliEncoderMaxCompressedSize(input.size());
      if (n == 0) n = input.size() + 1024;
      out.resize(n);
      if (!BrotliEncoderCompress(level == 0 ? 5 : level, BROTLI_DEFAULT_WINDOW, BROTLI_DEFAULT_MODE,
                                 input.size(), reinterpret_cast<const uint8_t*>(input.data()), &n,
                                 reinterpret_cast<uint8_t*>(out.data()))) {
        return InternalError("BrotliEncoderCompress failed");
      }
      out.resize(n);
      return out;
    }
    case Codec::kZstd: {
      out.resize(ZSTD_compressBound(input.size()));
      const size_t n =
          ZSTD_compress(out.data(), out.size(), input.data(), input.size(), level == 0 ? 1 : level);
      if (ZSTD_isError(n)) return InternalError(ZSTD_getErrorName(n));
      out.resize(n);
      return out;
    }
    case Codec::kLz4Raw:
    case Codec::kLz4: {
      if (!FitsInt(input.size())) return InvalidArgumentError("LZ4: input larger than 2 GiB");
      const int bound = LZ4_compressBound(static_cast<int>(input.size()));
      const size_t header = codec == Codec::kLz4 ? 8 : 0;
      out.resize(header + static_cast<size_t>(bound));
      const int n = LZ4_compress_default(input.data(), out.data() + header,
                                         static_cast<int>(input.size()), bound);
      if (n <= 0 && !input.empty()) return InternalError("LZ4_compress_default failed");
      out.resize(header + static_cast<size_t>(n));
      if (codec == Codec::kLz4) {
        std::string prefix;
        StoreBigEndian32(static_cast<uint32_t>(input.size()), &prefix);
        StoreBigEndian32(static_cast<uint32_t>(n), &prefix);
        std::memcpy(out.data(), prefix.data(), 8);
      }
      return out;
    }
    case Codec::kLzo: return UnimplementedError("compression codec LZO is not supported");
  }
  return UnimplementedError("unknown compression codec " + std::to_string(static_cast<int>(codec)));
}

Compressor::Compressor(Codec codec, int level) : codec_(codec), level_(level) {
  if (codec == Codec::kZstd) zstd_ctx_ = ZSTD_createCCtx();
}

Compressor::~Compressor() {
  ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_));
}

Status Compressor::CompressTo(std::string_view input, std::string* out) {
  if (codec_ == Codec::kZstd && zstd_ctx_ != nullptr) {
    const size_t start = out->size();
    out->resize(start + ZSTD_compressBound(input.size()));
    const size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_), out->data() + start,
                                       out->size() - start, input.data(), input.size(),
                                       level_ == 0 ? 1 : level_);
    if (ZSTD_isError(n)) {
      out->resize(start);
      return InternalError(ZSTD_getErrorName(n));
    }
    out->resize(start + n);
    return Status::Ok();
  }
  WEFT_ASSIGN_OR_RETURN(std::string packed, Compress(codec_, input, level_));
  out->append(packed);
  return Status::Ok();
}

}  // namespace weft::lake::parquet
