// libFuzzer target: whatever bytes arrive as a CSR, a certificate, a CA bundle or an artifact
// manifest (all of them come from the network: provisioning requests, OTA commands) end in a
// value or an error, never in a crash, a sanitizer report, a leak or an OpenSSL error left on
// the thread's queue. A manifest that parses prints canonically and parses back to itself.
// Built with -DWEFT_FUZZ=ON (clang).
#include <openssl/err.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fleet/pki.h"
#include "fleet/signing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const weft::TimePoint now = weft::TimeFromUnixMicros(1'780'000'000'000'000);

  auto csr = weft::fleet::ParseCsr(text);
  if (csr.ok() && csr->public_key_sha256.size() != 64) std::abort();
  auto cert = weft::fleet::ParseCert(text);
  if (cert.ok() && cert->fingerprint_sha256.size() != 64) std::abort();
  auto trust = weft::fleet::ParseTrustStore(text);
  if (trust.ok()) (void)weft::fleet::VerifyCert(text, **trust, now);

  auto manifest = weft::fleet::ParseManifest(text);
  if (manifest.ok()) {
    const std::string canonical = weft::fleet::ManifestJson(*manifest);
    auto again = weft::fleet::ParseManifest(canonical);
    if (!again.ok() || !(*again == *manifest)) std::abort();
    if (weft::fleet::ManifestJson(*again) != canonical) std::abort();
  }
  if (ERR_peek_error() != 0) std::abort();  // every OpenSSL error is drained into a Status
  return 0;
}
