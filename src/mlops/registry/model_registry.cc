#include "mlops/registry/model_registry.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

#include "common/time_format.h"
#include "sqlite/statement.h"

namespace weft::mlops {
namespace {

using json = nlohmann::json;
using ::weft::sqlite::ExecFixed;
using ::weft::sqlite::Statement;
using ::weft::sqlite::Transaction;

// One migration per element; never edit a released one, append. Times are µs since the epoch.
constexpr std::array<std::string_view, 1> kMigrations = {
    R"sql(
CREATE TABLE models (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL UNIQUE,
  created_at_us INTEGER NOT NULL,
  created_by    TEXT NOT NULL
);
CREATE TABLE model_versions (
  model_id          INTEGER NOT NULL REFERENCES models (id),
  version           INTEGER NOT NULL CHECK (version > 0),
  artifact_sha256   TEXT NOT NULL,
  artifact_size     INTEGER NOT NULL,
  format            TEXT NOT NULL,
  signature_hex     TEXT NOT NULL,
  card_json         TEXT NOT NULL,
  lineage_json      TEXT NOT NULL,
  metrics_json      TEXT NOT NULL,
  validation_json   TEXT NOT NULL,
  validation_passed INTEGER NOT NULL CHECK (validation_passed IN (0, 1)),
  created_at_us     INTEGER NOT NULL,
  created_by        TEXT NOT NULL,
  status            TEXT NOT NULL,
  PRIMARY KEY (model_id, version)
);
CREATE TABLE approvals (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id      INTEGER NOT NULL,
  version       INTEGER NOT NULL,
  principal     TEXT NOT NULL,
  role          TEXT NOT NULL,
  comment       TEXT NOT NULL,
  created_at_us INTEGER NOT NULL,
  UNIQUE (model_id, version, principal),
  FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)
);
-- Each alias is a stack: the top row is where it points; Rollback deletes the top row.
CREATE TABLE alias_stack (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id INTEGER NOT NULL,
  alias    TEXT NOT NULL,
  version  INTEGER NOT NULL,
  FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version)
);
CREATE INDEX alias_stack_by_alias ON alias_stack (model_id, alias, id);
CREATE TABLE history (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id      INTEGER NOT NULL REFERENCES models (id),
  at_us         INTEGER NOT NULL,
  actor         TEXT NOT NULL,
  action        TEXT NOT NULL,
  version       TEXT NOT NULL,
  alias         TEXT NOT NULL,
  from_version  TEXT NOT NULL,
  to_version    TEXT NOT NULL,
  detail        TEXT NOT NULL
);
CREATE INDEX history_by_model ON history (model_id, id);
)sql",
};

constexpr size_t kMaxNameLength = 128;
constexpr size_t kMaxAliasLength = 64;
constexpr size_t kMaxCommentLength = 1024;

Status ValidateModelName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || name[0] == '.' || name[0] == '-') {
    return InvalidArgumentError("model name '" + std::string(name.substr(0, kMaxNameLength)) +
                                "' must be 1 to 128 characters of letters, digits and . _ -, not "
                                "starting with '.' or '-'");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return InvalidArgumentError("model name '" + std::string(name) +
                                  "' may contain only letters, digits and . _ -");
    }
  }
  return Status::Ok();
}

Status ValidateAlias(std::string_view alias) {
  bool ok = !alias.empty() && alias.size() <= kMaxAliasLength;
  for (char c : alias) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  }
  if (!ok) {
    return InvalidArgumentError("alias '" + std::string(alias.substr(0, kMaxAliasLength)) +
                                "' must be 1 to 64 characters of a-z, 0-9, _ and -, e.g. "
                                "staging or production");
  }
  return Status::Ok();
}

Result<int64_t> ParseVersion(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v <= 0) {
    return InvalidArgumentError("model version '" + std::string(text.substr(0, 32)) +
                                "' must be a positive integer (1, 2, ...)");
  }
  return v;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

//! "" -> "{}"; otherwise must parse.
Result<std::string> CheckJson(std::string_view field, const std::string& text) {
  if (text.empty()) return std::string("{}");
  if (!json::accept(text)) {
    return InvalidArgumentError(std::string(field) + " is not valid JSON");
  }
  return text;
}

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError(Errno("cannot write", path));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return UnavailableError(Errno("cannot open directory", dir));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return UnavailableError(Errno("cannot fsync directory", dir));
  return Status::Ok();
}

//! A unique temp file beside `path`, written and fsynced. Its name in *temp.
Status WriteTemp(const std::string& path, std::string_view bytes, mode_t mode, std::string* temp) {
  unsigned char rnd[8];
  if (RAND_bytes(rnd, sizeof(rnd)) != 1) return InternalError("OpenSSL RAND_bytes failed");
  const std::filesystem::path p(path);
  *temp =
      (p.parent_path() / ("." + p.filename().string() + ".tmp-" + Hex(rnd, sizeof(rnd)))).string();
  const int fd = ::open(temp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return UnavailableError(Errno("cannot create", *temp));
  Status s =
      ::fchmod(fd, mode) == 0 ? Status::Ok() : UnavailableError(Errno("cannot chmod", *temp));
  if (s.ok()) s = WriteAll(fd, bytes, *temp);
  if (s.ok() && ::fsync(fd) != 0) s = UnavailableError(Errno("cannot fsync", *temp));
  ::close(fd);
  if (!s.ok()) ::unlink(temp->c_str());
  return s;
}

//! temp + fsync + rename + fsync(dir): the file is either absent or whole.
Status WriteFileAtomic(const std::string& path, std::string_view bytes, mode_t mode) {
  std::string temp;
  WEFT_RETURN_IF_ERROR(WriteTemp(path, bytes, mode, &temp));
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Status s = UnavailableError(Errno("cannot rename " + temp + " to", path));
    ::unlink(temp.c_str());
    return s;
  }
  return FsyncDir(std::filesystem::path(path).parent_path().string());
}

Result<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return DataLossError("artifact file " + path + " is missing");
    return UnavailableError(Errno("cannot open", path));
  }
  std::string out;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = UnavailableError(Errno("cannot read", path));
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

//! Creates `dir` (and parents); a directory it creates gets `mode`, an existing one is left as is.
Status MakeDirs(const std::string& dir, mode_t mode) {
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) return FailedPreconditionError("cannot create directory " + dir + ": " + ec.message());
  if (created) ::chmod(dir.c_str(), mode);
  return Status::Ok();
}

std::string RawDigest(std::string_view bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &n, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), n);
}

//! Failed constraint names of a validation report ("results"[i].status == "failed").
std::vector<std::string> FailedConstraints(const std::string& report) {
  std::vector<std::string> out;
  const json j = json::parse(report, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("results") || !j["results"].is_array()) return out;
  for (const json& r : j["results"]) {
    if (!r.is_object()) continue;
    auto status = r.find("status");
    if (status == r.end() || !status->is_string() || *status != "failed") continue;
    auto name = r.find("name");
    out.push_back(name != r.end() && name->is_string() ? name->get<std::string>() : "(unnamed)");
  }
  return out;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

std::string What(std::string_view name, int64_t version) {
  return "model '" + std::string(name) + "' version " + std::to_string(version);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The signing key

struct ModelRegistry::Key {
  EVP_PKEY* pkey = nullptr;
  std::string public_pem;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

Result<std::string> PemOf(EVP_PKEY* pkey, bool is_private) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  const bool ok = bio && (is_private ? PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr,
                                                                0, nullptr, nullptr) == 1
                                     : PEM_write_bio_PUBKEY(bio.get(), pkey) == 1);
  if (!ok) return InternalError("OpenSSL cannot encode the model-signing key");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

Status ModelRegistry::EnsureKeyLocked(bool create) {
  if (key_) return Status::Ok();
  const std::string dir = state_dir_ + "/keys";
  const std::string path = dir + "/model-signing.pem";
  const std::string pub_path = dir + "/model-signing.pub.pem";
  WEFT_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  if (!std::filesystem::exists(path) && !create) {
    return DataLossError("the model-signing key " + path +
                         " is missing: no registered artifact can be verified");
  }
  if (!std::filesystem::exists(path)) {
    // Generate, write to a temp file, then link(): of two registries racing on first use, one
    // key wins and both load it.
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> fresh(
        EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), &EVP_PKEY_free);
    if (!fresh) return InternalError("OpenSSL cannot generate an Ed25519 key");
    WEFT_ASSIGN_OR_RETURN(std::string pem, PemOf(fresh.get(), true));
    std::string temp;
    WEFT_RETURN_IF_ERROR(WriteTemp(path, pem, 0600, &temp));
    const int rc = ::link(temp.c_str(), path.c_str());
    const int link_errno = errno;
    ::unlink(temp.c_str());
    if (rc != 0 && link_errno != EEXIST) {
      errno = link_errno;
      return UnavailableError(Errno("cannot create the model-signing key", path));
    }
    WEFT_RETURN_IF_ERROR(FsyncDir(dir));
  }
  Result<std::string> pem = ReadFile(path);
  if (!pem.ok()) return UnavailableError("cannot read the model-signing key " + path);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), &BIO_free);
  auto key = std::make_unique<Key>();
  key->pkey = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (key->pkey == nullptr || EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_ED25519) {
    return DataLossError("the model-signing key " + path + " is not an Ed25519 private key (PEM)");
  }
  WEFT_ASSIGN_OR_RETURN(key->public_pem, PemOf(key->pkey, false));
  Result<std::string> existing_pub = ReadFile(pub_path);
  if (!existing_pub.ok() || *existing_pub != key->public_pem) {
    WEFT_RETURN_IF_ERROR(WriteFileAtomic(pub_path, key->public_pem, 0644));
  }
  key_ = std::move(key);
  return Status::Ok();
}

Result<std::string> ModelRegistry::PublicKeyPem() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_RETURN_IF_ERROR(EnsureKeyLocked(true));
  return key_->public_pem;
}

// ---------------------------------------------------------------------------------------------
// Open

std::string Sha256Hex(std::string_view bytes) {
  const std::string d = RawDigest(bytes);
  return Hex(reinterpret_cast<const unsigned char*>(d.data()), d.size());
}

Quorum MatchQuorum(const std::vector<std::pair<std::string, std::string>>& principal_roles,
                   const std::vector<std::string>& required_roles) {
  // Kuhn's augmenting paths over (role -> principals who approved in it).
  std::vector<std::string> principals;
  std::vector<std::vector<size_t>> candidates(required_roles.size());
  for (const auto& [principal, role] : principal_roles) {
    auto r = std::find(required_roles.begin(), required_roles.end(), role);
    if (r == required_roles.end()) continue;
    auto p = std::find(principals.begin(), principals.end(), principal);
    const auto pi = static_cast<size_t>(p - principals.begin());
    if (p == principals.end()) principals.push_back(principal);
    auto& c = candidates[static_cast<size_t>(r - required_roles.begin())];
    if (std::find(c.begin(), c.end(), pi) == c.end()) c.push_back(pi);
  }
  std::vector<int> role_of(principals.size(), -1);
  std::vector<int> principal_of(required_roles.size(), -1);
  std::vector<bool> visited;
  std::function<bool(size_t)> assign = [&](size_t r) {
    for (size_t p : candidates[r]) {
      if (visited[p]) continue;
      visited[p] = true;
      if (role_of[p] < 0 || assign(static_cast<size_t>(role_of[p]))) {
        role_of[p] = static_cast<int>(r);
        principal_of[r] = static_cast<int>(p);
        return true;
      }
    }
    return false;
  };
  for (size_t r = 0; r < required_roles.size(); ++r) {
    visited.assign(principals.size(), false);
    assign(r);
  }
  Quorum q;
  for (size_t r = 0; r < required_roles.size(); ++r) {
    if (principal_of[r] < 0) {
      q.missing.push_back(required_roles[r]);
    } else {
      q.filled.emplace_back(required_roles[r], principals[static_cast<size_t>(principal_of[r])]);
    }
  }
  return q;
}

Result<std::unique_ptr<ModelRegistry>> ModelRegistry::Open(const std::string& state_dir,
                                                           const Clock* clock,
                                                           ModelRegistryOptions options) {
  if (clock == nullptr) return InvalidArgumentError("model registry: no clock given");
  {
    const auto& roles = options.production_approver_roles;
    std::set<std::string> unique(roles.begin(), roles.end());
    if (roles.empty() || unique.size() != roles.size() || unique.count("") > 0) {
      return InvalidArgumentError(
          "model registry: production_approver_roles must be a non-empty list of distinct role "
          "names, got [" +
          Join(roles, ", ") + "]");
    }
  }
  if (state_dir.empty()) return InvalidArgumentError("model registry: no state directory given");
  WEFT_RETURN_IF_ERROR(MakeDirs(state_dir, 0700));
  WEFT_RETURN_IF_ERROR(MakeDirs(state_dir + "/artifacts/sha256", 0755));
  const std::string path = state_dir + "/models.db";
  // FULL: an approval or a promotion that was acknowledged survives a power cut.
  WEFT_ASSIGN_OR_RETURN(
      sqlite3 * db,
      ::weft::sqlite::OpenDatabase(path, "model registry", ::weft::sqlite::Durability::kFull));
  std::unique_ptr<ModelRegistry> r(
      new ModelRegistry(state_dir, path, db, clock, std::move(options)));
  WEFT_RETURN_IF_ERROR(::weft::sqlite::Migrate(db, r->db_path_, "model registry", kMigrations));
  return r;
}

ModelRegistry::ModelRegistry(std::string state_dir, std::string db_path, sqlite3* db,
                             const Clock* clock, ModelRegistryOptions options)
    : state_dir_(std::move(state_dir)),
      db_path_(std::move(db_path)),
      clock_(clock),
      options_(std::move(options)),
      db_(db) {}

ModelRegistry::~ModelRegistry() {
  sqlite3_close_v2(db_);
}

std::string ModelRegistry::ArtifactPath(std::string_view sha256_hex) const {
  return state_dir_ + "/artifacts/sha256/" + std::string(sha256_hex.substr(0, 2)) + "/" +
         std::string(sha256_hex);
}

// ---------------------------------------------------------------------------------------------
// Register

Result<ModelVersion> ModelRegistry::Register(const NewModelVersion& nv) {
  WEFT_RETURN_IF_ERROR(ValidateModelName(nv.name));
  if (nv.artifact.empty()) {
    return InvalidArgumentError("model '" + nv.name + "': the artifact is empty");
  }
  if (nv.created_by.empty() || nv.created_by.size() > kMaxNameLength || HasControl(nv.created_by)) {
    return InvalidArgumentError("model '" + nv.name +
                                "': created_by must name who registers it (1-128 characters)");
  }
  if (nv.format.empty() || nv.format.size() > 64 || HasControl(nv.format)) {
    return InvalidArgumentError("model '" + nv.name + "': format must be 1-64 characters");
  }
  ModelVersion v;
  v.name = nv.name;
  v.format = nv.format;
  WEFT_ASSIGN_OR_RETURN(v.card_json, CheckJson("the model card", nv.card_json));
  WEFT_ASSIGN_OR_RETURN(v.lineage_json, CheckJson("the lineage", nv.lineage_json));
  WEFT_ASSIGN_OR_RETURN(v.metrics_json, CheckJson("the metrics", nv.metrics_json));
  WEFT_ASSIGN_OR_RETURN(v.validation_json, CheckJson("the validation report", nv.validation_json));
  v.validation_passed = nv.validation_passed;
  v.created_by = nv.created_by;
  v.created_at = clock_->Now();
  v.status = "registered";
  v.artifact_size = static_cast<int64_t>(nv.artifact.size());
  const std::string digest = RawDigest(nv.artifact);
  v.artifact_sha256 = Hex(reinterpret_cast<const unsigned char*>(digest.data()), digest.size());

  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_RETURN_IF_ERROR(EnsureKeyLocked(true));
  {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    unsigned char sig[64];
    size_t sig_len = sizeof(sig);
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) != 1 ||
        EVP_DigestSign(ctx.get(), sig, &sig_len,
                       reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) != 1) {
      return InternalError("OpenSSL cannot sign the artifact of model '" + nv.name + "'");
    }
    v.signature_hex = Hex(sig, sig_len);
  }
  // The artifact first (content-addressed, so a retry or another version reuses it), durable
  // before the row that names it.
  const std::string file = ArtifactPath(v.artifact_sha256);
  Result<std::string> existing = ReadFile(file);
  if (!existing.ok() || *existing != nv.artifact) {
    WEFT_RETURN_IF_ERROR(MakeDirs(std::filesystem::path(file).parent_path().string(), 0755));
    WEFT_RETURN_IF_ERROR(WriteFileAtomic(file, nv.artifact, 0644));
  }

  WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, db_path_));
  Result<int64_t> model_id = ModelIdLocked(nv.name);
  if (!model_id.ok() && model_id.status().code() == StatusCode::kNotFound) {
    WEFT_ASSIGN_OR_RETURN(Statement ins,
                          Statement::Prepare(db_, db_path_,
                                             "INSERT INTO models (name, created_at_us, created_by) "
                                             "VALUES (?1, ?2, ?3)"));
    WEFT_RETURN_IF_ERROR(ins.BindAll(std::string_view(v.name), UnixMicros(v.created_at),
                                     std::string_view(v.created_by)));
    WEFT_RETURN_IF_ERROR(ins.Run("creating model '" + v.name + "'"));
    model_id = sqlite3_last_insert_rowid(db_);
  }
  if (!model_id.ok()) return model_id.status();
  int64_t number = 1;
  {
    WEFT_ASSIGN_OR_RETURN(Statement q,
                          Statement::Prepare(db_, db_path_,
                                             "SELECT COALESCE(MAX(version), 0) + 1 FROM "
                                             "model_versions WHERE model_id = ?1"));
    WEFT_RETURN_IF_ERROR(q.Bind(1, *model_id));
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("allocating a version"));
    if (row) number = q.Int(0);
  }
  v.version = std::to_string(number);
  WEFT_ASSIGN_OR_RETURN(
      Statement ins,
      Statement::Prepare(db_, db_path_,
                         "INSERT INTO model_versions (model_id, version, artifact_sha256, "
                         "artifact_size, format, signature_hex, card_json, lineage_json, "
                         "metrics_json, validation_json, validation_passed, created_at_us, "
                         "created_by, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                         "?11, ?12, ?13, ?14)"));
  WEFT_RETURN_IF_ERROR(ins.BindAll(
      *model_id, number, std::string_view(v.artifact_sha256), v.artifact_size,
      std::string_view(v.format), std::string_view(v.signature_hex), std::string_view(v.card_json),
      std::string_view(v.lineage_json), std::string_view(v.metrics_json),
      std::string_view(v.validation_json), int64_t{v.validation_passed ? 1 : 0},
      UnixMicros(v.created_at), std::string_view(v.created_by), std::string_view(v.status)));
  WEFT_RETURN_IF_ERROR(ins.Run("registering " + What(v.name, number)));
  HistoryEntry h;
  h.at = v.created_at;
  h.actor = v.created_by;
  h.action = "register";
  h.version = v.version;
  h.detail = json{{"sha256", v.artifact_sha256},
                  {"size", v.artifact_size},
                  {"validation_passed", v.validation_passed}}
                 .dump();
  WEFT_RETURN_IF_ERROR(AddHistoryLocked(*model_id, h));
  WEFT_RETURN_IF_ERROR(txn.Commit());
  return v;
}

// ---------------------------------------------------------------------------------------------
// Reads

Result<int64_t> ModelRegistry::ModelIdLocked(std::string_view name) {
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, db_path_, "SELECT id FROM models WHERE name = ?1"));
  WEFT_RETURN_IF_ERROR(q.Bind(1, name));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("looking up a model"));
  if (!row) return NotFoundError("unknown model '" + std::string(name) + "'");
  return q.Int(0);
}

namespace {
constexpr std::string_view kVersionColumns =
    "version, artifact_sha256, artifact_size, format, signature_hex, card_json, lineage_json, "
    "metrics_json, validation_json, validation_passed, created_at_us, created_by, status";

ModelVersion ReadVersionRow(const Statement& q, std::string_view name) {
  ModelVersion v;
  v.name = std::string(name);
  v.version = std::to_string(q.Int(0));
  v.artifact_sha256 = q.Text(1);
  v.artifact_size = q.Int(2);
  v.format = q.Text(3);
  v.signature_hex = q.Text(4);
  v.card_json = q.Text(5);
  v.lineage_json = q.Text(6);
  v.metrics_json = q.Text(7);
  v.validation_json = q.Text(8);
  v.validation_passed = q.Int(9) != 0;
  v.created_at = TimeFromUnixMicros(q.Int(10));
  v.created_by = q.Text(11);
  v.status = q.Text(12);
  return v;
}
}  // namespace

Result<std::map<std::string, std::string>> ModelRegistry::AliasesLocked(int64_t model_id) {
  WEFT_ASSIGN_OR_RETURN(
      Statement q, Statement::Prepare(db_, db_path_,
                                      "SELECT s.alias, s.version FROM alias_stack s WHERE "
                                      "s.model_id = ?1 AND s.id = (SELECT MAX(id) FROM "
                                      "alias_stack t WHERE t.model_id = s.model_id AND t.alias = "
                                      "s.alias) ORDER BY s.alias"));
  WEFT_RETURN_IF_ERROR(q.Bind(1, model_id));
  std::map<std::string, std::string> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading aliases"));
    if (!row) break;
    out[q.Text(0)] = std::to_string(q.Int(1));
  }
  return out;
}

Result<ModelVersion> ModelRegistry::GetLocked(int64_t model_id, std::string_view name,
                                              int64_t version) {
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(db_, db_path_,
                         "SELECT " + std::string(kVersionColumns) +
                             " FROM model_versions WHERE model_id = ?1 AND version = ?2"));
  WEFT_RETURN_IF_ERROR(q.BindAll(model_id, version));
  WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading a model version"));
  if (!row)
    return NotFoundError("model '" + std::string(name) + "' has no version " +
                         std::to_string(version));
  ModelVersion v = ReadVersionRow(q, name);
  WEFT_ASSIGN_OR_RETURN(
      Statement a,
      Statement::Prepare(db_, db_path_,
                         "SELECT principal, role, comment, created_at_us FROM "
                         "approvals WHERE model_id = ?1 AND version = ?2 ORDER BY id"));
  WEFT_RETURN_IF_ERROR(a.BindAll(model_id, version));
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool more, a.Step("reading approvals"));
    if (!more) break;
    v.approvals.push_back({a.Text(0), a.Text(1), a.Text(2), TimeFromUnixMicros(a.Int(3))});
  }
  WEFT_ASSIGN_OR_RETURN(auto aliases, AliasesLocked(model_id));
  for (const auto& [alias, ver] : aliases) {
    if (ver == v.version) v.aliases.push_back(alias);
  }
  return v;
}

Result<std::vector<ModelSummary>> ModelRegistry::List() {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(
      Statement q, Statement::Prepare(db_, db_path_,
                                      "SELECT m.id, m.name, m.created_at_us, COUNT(v.version), "
                                      "COALESCE(MAX(v.version), 0) FROM models m LEFT JOIN "
                                      "model_versions v ON v.model_id = m.id GROUP BY m.id "
                                      "ORDER BY m.name"));
  std::vector<std::pair<int64_t, ModelSummary>> rows;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing models"));
    if (!row) break;
    ModelSummary s;
    s.name = q.Text(1);
    s.created_at = TimeFromUnixMicros(q.Int(2));
    s.versions = q.Int(3);
    s.latest_version = q.Int(4) > 0 ? std::to_string(q.Int(4)) : "";
    rows.emplace_back(q.Int(0), std::move(s));
  }
  std::vector<ModelSummary> out;
  for (auto& [id, s] : rows) {
    WEFT_ASSIGN_OR_RETURN(s.aliases, AliasesLocked(id));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<ModelVersion>> ModelRegistry::Versions(std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, db_path_,
                                           "SELECT version FROM model_versions WHERE model_id = "
                                           "?1 ORDER BY version"));
  WEFT_RETURN_IF_ERROR(q.Bind(1, id));
  std::vector<int64_t> numbers;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing versions"));
    if (!row) break;
    numbers.push_back(q.Int(0));
  }
  std::vector<ModelVersion> out;
  for (int64_t n : numbers) {
    WEFT_ASSIGN_OR_RETURN(ModelVersion v, GetLocked(id, name, n));
    out.push_back(std::move(v));
  }
  return out;
}

Result<ModelVersion> ModelRegistry::Get(std::string_view name, std::string_view version) {
  WEFT_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  return GetLocked(id, name, number);
}

Result<std::map<std::string, std::string>> ModelRegistry::Aliases(std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  return AliasesLocked(id);
}

Result<ModelVersion> ModelRegistry::Resolve(std::string_view name, std::string_view alias) {
  WEFT_RETURN_IF_ERROR(ValidateAlias(alias));
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  WEFT_ASSIGN_OR_RETURN(auto aliases, AliasesLocked(id));
  auto it = aliases.find(std::string(alias));
  if (it == aliases.end()) {
    return NotFoundError("model '" + std::string(name) + "' has no alias '" + std::string(alias) +
                         "'");
  }
  return GetLocked(id, name, std::stoll(it->second));
}

Result<std::vector<HistoryEntry>> ModelRegistry::History(std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, db_path_,
                                           "SELECT id, at_us, actor, action, version, alias, "
                                           "from_version, to_version, detail FROM history WHERE "
                                           "model_id = ?1 ORDER BY id"));
  WEFT_RETURN_IF_ERROR(q.Bind(1, id));
  std::vector<HistoryEntry> out;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading the history"));
    if (!row) break;
    out.push_back({q.Int(0), TimeFromUnixMicros(q.Int(1)), q.Text(2), q.Text(3), q.Text(4),
                   q.Text(5), q.Text(6), q.Text(7), q.Text(8)});
  }
  return out;
}

Status ModelRegistry::AddHistoryLocked(int64_t model_id, const HistoryEntry& e) {
  WEFT_ASSIGN_OR_RETURN(
      Statement ins,
      Statement::Prepare(db_, db_path_,
                         "INSERT INTO history (model_id, at_us, actor, action, version, alias, "
                         "from_version, to_version, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                         "?8, ?9)"));
  WEFT_RETURN_IF_ERROR(ins.BindAll(model_id, UnixMicros(e.at), std::string_view(e.actor),
                                   std::string_view(e.action), std::string_view(e.version),
                                   std::string_view(e.alias), std::string_view(e.from),
                                   std::string_view(e.to), std::string_view(e.detail)));
  return ins.Run("recording the history");
}

// ---------------------------------------------------------------------------------------------
// Integrity

Status ModelRegistry::VerifyLocked(const ModelVersion& v, std::string* bytes) {
  const std::string what = "model '" + v.name + "' version " + v.version;
  if (!IsSha256Hex(v.artifact_sha256)) {
    return DataLossError(what + ": the stored digest '" + v.artifact_sha256.substr(0, 80) +
                         "' is not a SHA-256 hex string (" + db_path_ + " was altered)");
  }
  const std::string file = ArtifactPath(v.artifact_sha256);
  WEFT_ASSIGN_OR_RETURN(std::string data, ReadFile(file));
  const std::string actual = Sha256Hex(data);
  if (actual != v.artifact_sha256) {
    return DataLossError(what + ": artifact " + file + " is tampered or corrupt: expected sha256 " +
                         v.artifact_sha256 + ", actual " + actual + " (" +
                         std::to_string(data.size()) + " bytes); refusing it");
  }
  if (static_cast<int64_t>(data.size()) != v.artifact_size) {
    return DataLossError(what + ": artifact " + file + " has " + std::to_string(data.size()) +
                         " bytes, the registry recorded " + std::to_string(v.artifact_size));
  }
  WEFT_RETURN_IF_ERROR(EnsureKeyLocked(false));
  std::string sig, digest;
  Unhex(v.artifact_sha256, &digest);
  bool ok = Unhex(v.signature_hex, &sig) && sig.size() == 64;
  if (ok) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    ok =
        ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_->pkey) == 1 &&
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(digest.data()), digest.size()) == 1;
  }
  if (!ok) {
    return DataLossError(what + ": the signature of artifact " + file + " (sha256 " +
                         v.artifact_sha256 + ") does not verify with " + state_dir_ +
                         "/keys/model-signing.pub.pem: the registry row or the key was "
                         "tampered with; refusing it");
  }
  if (bytes != nullptr) *bytes = std::move(data);
  return Status::Ok();
}

Result<std::string> ModelRegistry::ReadArtifact(std::string_view name, std::string_view version) {
  WEFT_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  WEFT_ASSIGN_OR_RETURN(ModelVersion v, GetLocked(id, name, number));
  std::string bytes;
  WEFT_RETURN_IF_ERROR(VerifyLocked(v, &bytes));
  return bytes;
}

Status ModelRegistry::Verify(std::string_view name, std::string_view version) {
  WEFT_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  WEFT_ASSIGN_OR_RETURN(ModelVersion v, GetLocked(id, name, number));
  return VerifyLocked(v, nullptr);
}

// ---------------------------------------------------------------------------------------------
// Approvals, aliases

Status ModelRegistry::Approve(std::string_view name, std::string_view version, const Actor& actor,
                              std::string_view role, std::string_view comment) {
  WEFT_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  if (actor.principal.empty()) return InvalidArgumentError("an approval needs a principal");
  if (std::find(actor.roles.begin(), actor.roles.end(), role) == actor.roles.end()) {
    return PermissionDeniedError("principal '" + actor.principal + "' does not hold role '" +
                                 std::string(role) + "' (holds: " + Join(actor.roles, ", ") + ")");
  }
  if (comment.size() > kMaxCommentLength || HasControl(comment)) {
    return InvalidArgumentError(
        "the approval comment must be at most 1024 characters without control characters");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, db_path_));
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  WEFT_ASSIGN_OR_RETURN(ModelVersion v, GetLocked(id, name, number));
  for (const Approval& a : v.approvals) {
    if (a.principal == actor.principal) {
      return AlreadyExistsError("principal '" + actor.principal + "' already approved " +
                                What(name, number) + " as " + a.role +
                                "; one principal counts once toward the approval quorum");
    }
  }
  const TimePoint now = clock_->Now();
  WEFT_ASSIGN_OR_RETURN(
      Statement ins,
      Statement::Prepare(db_, db_path_,
                         "INSERT INTO approvals (model_id, version, principal, role, comment, "
                         "created_at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  WEFT_RETURN_IF_ERROR(
      ins.BindAll(id, number, std::string_view(actor.principal), role, comment, UnixMicros(now)));
  WEFT_RETURN_IF_ERROR(ins.Run("approving " + What(name, number)));
  HistoryEntry h;
  h.at = now;
  h.actor = actor.principal;
  h.action = "approve";
  h.version = v.version;
  h.detail = json{{"role", role}, {"comment", comment}}.dump();
  WEFT_RETURN_IF_ERROR(AddHistoryLocked(id, h));
  return txn.Commit();
}

Status ModelRegistry::Promote(std::string_view name, std::string_view version,
                              std::string_view alias, const Actor& actor) {
  WEFT_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  WEFT_RETURN_IF_ERROR(ValidateAlias(alias));
  if (actor.principal.empty()) return InvalidArgumentError("a promotion needs a principal");
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, db_path_));
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  WEFT_ASSIGN_OR_RETURN(ModelVersion v, GetLocked(id, name, number));
  const std::string target = What(name, number);
  if (!v.validation_passed) {
    const std::vector<std::string> failed = FailedConstraints(v.validation_json);
    return FailedPreconditionError("promotion of " + target + " to '" + std::string(alias) +
                                   "' refused: it did not pass validation" +
                                   (failed.empty()
                                        ? std::string(" (the report names no failed constraint)")
                                        : " (failed constraints: " + Join(failed, ", ") + ")"));
  }
  if (alias == kProductionAlias) {
    if (std::vector<std::string> missing = MissingProductionRoles(v); !missing.empty()) {
      std::vector<std::string> have;
      for (const Approval& a : v.approvals) have.push_back(a.principal + " as " + a.role);
      return FailedPreconditionError(
          "promotion of " + target + " to 'production' refused: it needs approvals by " +
          Join(options_.production_approver_roles, ", ") +
          ", each by a different principal; missing: " + Join(missing, ", ") +
          "; approvals so far: " + (have.empty() ? std::string("none") : Join(have, ", ")));
    }
  }
  WEFT_ASSIGN_OR_RETURN(auto aliases, AliasesLocked(id));
  auto it = aliases.find(std::string(alias));
  const std::string from = it == aliases.end() ? "" : it->second;
  if (from == v.version) return Status::Ok();  // already there: nothing to record
  WEFT_ASSIGN_OR_RETURN(Statement ins,
                        Statement::Prepare(db_, db_path_,
                                           "INSERT INTO alias_stack (model_id, alias, version) "
                                           "VALUES (?1, ?2, ?3)"));
  WEFT_RETURN_IF_ERROR(ins.BindAll(id, alias, number));
  WEFT_RETURN_IF_ERROR(ins.Run("promoting " + target));
  HistoryEntry h;
  h.at = clock_->Now();
  h.actor = actor.principal;
  h.action = "promote";
  h.version = v.version;
  h.alias = std::string(alias);
  h.from = from;
  h.to = v.version;
  h.detail = json{{"roles", actor.roles}}.dump();
  WEFT_RETURN_IF_ERROR(AddHistoryLocked(id, h));
  return txn.Commit();
}

std::vector<std::string> ModelRegistry::MissingProductionRoles(const ModelVersion& v) const {
  std::vector<std::pair<std::string, std::string>> given;
  given.reserve(v.approvals.size());
  for (const Approval& a : v.approvals) given.emplace_back(a.principal, a.role);
  return MatchQuorum(given, options_.production_approver_roles).missing;
}

Result<std::vector<ModelVersion>> ModelRegistry::AwaitingProduction() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Candidates: validated versions with at least one approval.
  WEFT_ASSIGN_OR_RETURN(
      Statement q,
      Statement::Prepare(
          db_, db_path_,
          "SELECT DISTINCT m.id, m.name, v.version FROM model_versions v JOIN models m "
          "ON m.id = v.model_id JOIN approvals a ON a.model_id = v.model_id AND "
          "a.version = v.version WHERE v.validation_passed = 1 "
          "ORDER BY m.name, v.version"));
  std::vector<std::tuple<int64_t, std::string, int64_t>> keys;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("listing versions awaiting production"));
    if (!row) break;
    keys.emplace_back(q.Int(0), q.Text(1), q.Int(2));
  }
  std::vector<ModelVersion> out;
  for (const auto& [id, name, number] : keys) {
    WEFT_ASSIGN_OR_RETURN(ModelVersion v, GetLocked(id, name, number));
    const bool in_production = std::find(v.aliases.begin(), v.aliases.end(),
                                         std::string(kProductionAlias)) != v.aliases.end();
    if (in_production || MissingProductionRoles(v).empty()) continue;
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::string> ModelRegistry::Rollback(std::string_view name, std::string_view alias,
                                            const Actor& actor) {
  WEFT_RETURN_IF_ERROR(ValidateAlias(alias));
  if (actor.principal.empty()) return InvalidArgumentError("a rollback needs a principal");
  std::lock_guard<std::mutex> lock(mutex_);
  WEFT_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db_, db_path_));
  WEFT_ASSIGN_OR_RETURN(int64_t id, ModelIdLocked(name));
  WEFT_ASSIGN_OR_RETURN(Statement q,
                        Statement::Prepare(db_, db_path_,
                                           "SELECT id, version FROM alias_stack WHERE model_id = "
                                           "?1 AND alias = ?2 ORDER BY id DESC LIMIT 2"));
  WEFT_RETURN_IF_ERROR(q.BindAll(id, alias));
  std::vector<std::pair<int64_t, int64_t>> top;
  while (true) {
    WEFT_ASSIGN_OR_RETURN(bool row, q.Step("reading the alias history"));
    if (!row) break;
    top.emplace_back(q.Int(0), q.Int(1));
  }
  const std::string where =
      "alias '" + std::string(alias) + "' of model '" + std::string(name) + "'";
  if (top.empty()) return NotFoundError(where + " is not set");
  if (top.size() < 2) {
    return FailedPreconditionError(where +
                                   " has no earlier version to roll back to (it points at "
                                   "version " +
                                   std::to_string(top[0].second) + " since it was first set)");
  }
  WEFT_ASSIGN_OR_RETURN(Statement del,
                        Statement::Prepare(db_, db_path_, "DELETE FROM alias_stack WHERE id = ?1"));
  WEFT_RETURN_IF_ERROR(del.Bind(1, top[0].first));
  WEFT_RETURN_IF_ERROR(del.Run("rolling back " + where));
  HistoryEntry h;
  h.at = clock_->Now();
  h.actor = actor.principal;
  h.action = "rollback";
  h.version = std::to_string(top[1].second);
  h.alias = std::string(alias);
  h.from = std::to_string(top[0].second);
  h.to = std::to_string(top[1].second);
  h.detail = json{{"roles", actor.roles}}.dump();
  WEFT_RETURN_IF_ERROR(AddHistoryLocked(id, h));
  WEFT_RETURN_IF_ERROR(txn.Commit());
  return h.to;
}

nlohmann::json StoredJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? nlohmann::json(text) : j;
}

nlohmann::json ToJson(const ModelVersion& v, bool full) {
  auto iso = [](TimePoint t) { return FormatTimestampMicros(UnixMicros(t)); };
  nlohmann::json approvals = nlohmann::json::array();
  for (const Approval& a : v.approvals) {
    approvals.push_back(
        {{"principal", a.principal}, {"role", a.role}, {"comment", a.comment}, {"at", iso(a.at)}});
  }
  nlohmann::json j{{"name", v.name},
                   {"version", v.version},
                   {"artifact_sha256", v.artifact_sha256},
                   {"artifact_size", v.artifact_size},
                   {"format", v.format},
                   {"validation_passed", v.validation_passed},
                   {"created_at", iso(v.created_at)},
                   {"created_by", v.created_by},
                   {"status", v.status},
                   {"aliases", v.aliases},
                   {"approvals", approvals}};
  if (full) {
    j["signature"] = v.signature_hex;
    j["card"] = StoredJson(v.card_json);
    j["lineage"] = StoredJson(v.lineage_json);
    j["metrics"] = StoredJson(v.metrics_json);
    j["validation"] = StoredJson(v.validation_json);
  }
  return j;
}

nlohmann::json ToJson(const HistoryEntry& h) {
  nlohmann::json j{{"id", h.id},           {"at", FormatTimestampMicros(UnixMicros(h.at))},
                   {"actor", h.actor},     {"action", h.action},
                   {"version", h.version}, {"detail", StoredJson(h.detail)}};
  if (!h.alias.empty()) {
    j["alias"] = h.alias;
    j["from"] = h.from.empty() ? nlohmann::json(nullptr) : nlohmann::json(h.from);
    j["to"] = h.to;
  }
  return j;
}

}  // namespace weft::mlops
