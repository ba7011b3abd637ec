#include "lake/storage/local_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "lake/storage/object_key.h"

namespace weft::lake {
namespace {

Status ErrnoStatus(int err, std::string_view op, std::string_view path) {
  std::string message = std::string(op) + " " + std::string(path) + ": " + std::strerror(err);
  switch (err) {
    case ENOENT: return NotFoundError(std::move(message));
    case EEXIST: return AlreadyExistsError(std::move(message));
    case EACCES:
    case EPERM:
    case EROFS: return PermissionDeniedError(std::move(message));
    case ENOSPC:
    case EDQUOT: return Status(StatusCode::kResourceExhausted, std::move(message));
    case ENOTDIR:
    case EISDIR: return FailedPreconditionError(std::move(message));
    default: return UnavailableError(std::move(message));
  }
}

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  //! Closes now and reports close(2)'s error (write errors can surface here on NFS).
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status SyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "open directory", dir);
  if (::fsync(fd.get()) != 0) return ErrnoStatus(errno, "fsync directory", dir);
  return Status::Ok();
}

// mkdir -p, tolerant of concurrent creators.
Status MakeDirs(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return FailedPreconditionError(dir + " exists and is not a directory");
  }
  if (errno != ENOENT) return ErrnoStatus(errno, "stat", dir);
  if (dir != "/") WEFT_RETURN_IF_ERROR(MakeDirs(DirName(dir)));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus(errno, "mkdir", dir);
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads up to `length` bytes at `offset`; fewer at the end of the file.
Status PreadAll(int fd, uint64_t offset, uint64_t length, const std::string& path,
                std::string* out) {
  out->resize(length);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, out->data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  out->resize(done);
  return Status::Ok();
}

int64_t ModifiedMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 +
         static_cast<int64_t>(st.st_mtim.tv_nsec / 1000000);
}

// Appends the regular files under `dir` (key prefix `key_dir`, "" or ending in '/') whose keys
// start with `prefix`. Directories that cannot hold a match are not entered.
Status Walk(const std::string& dir, const std::string& key_dir, std::string_view prefix,
            std::vector<ObjectInfo>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::Ok();  // raced with a delete
    return ErrnoStatus(errno, "opendir", dir);
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == ".." || name.substr(0, kTempFilePrefix.size()) == kTempFilePrefix) {
      continue;
    }
    names.emplace_back(name);
  }
  int read_errno = errno;
  ::closedir(d);
  if (read_errno != 0) return ErrnoStatus(read_errno, "readdir", dir);

  for (const std::string& name : names) {
    std::string key = key_dir + name;
    // A directory's keys start with key + "/": skip it when that cannot match the prefix.
    size_t common = std::min(key.size(), prefix.size());
    if (key.compare(0, common, prefix, 0, common) != 0) continue;
    std::string path = dir;
    path.append("/").append(name);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoStatus(errno, "stat", path);
    }
    if (S_ISLNK(st.st_mode)) {  // follow links to files, never to directories (no loops)
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    }
    if (S_ISDIR(st.st_mode)) {
      WEFT_RETURN_IF_ERROR(Walk(path, key + "/", prefix, out));
    } else if (S_ISREG(st.st_mode) && key.size() >= prefix.size()) {
      out->push_back(ObjectInfo{key, static_cast<uint64_t>(st.st_size), ModifiedMs(st)});
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<LocalObjectStore>> LocalObjectStore::Open(std::string root,
                                                                 LocalStoreOptions options) {
  if (root.empty()) return InvalidArgumentError("local object store: root directory is empty");
  if (root.find('\0') != std::string::npos) {
    return InvalidArgumentError("local object store: root directory contains a NUL byte");
  }
  if (root.front() != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoStatus(errno, "getcwd for", root);
    root = std::string(cwd) + "/" + root;
  }
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  if (options.create_root) {
    WEFT_RETURN_IF_ERROR(MakeDirs(root));
  } else {
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", root);
    if (!S_ISDIR(st.st_mode)) return FailedPreconditionError(root + " is not a directory");
  }
  return std::unique_ptr<LocalObjectStore>(new LocalObjectStore(std::move(root), options));
}

std::string LocalObjectStore::Describe(std::string_view key) const {
  return (root_ == "/" ? std::string() : root_) + "/" + std::string(key);
}

Result<std::string> LocalObjectStore::Get(std::string_view key) {
  return GetRange(key, 0, UINT64_MAX);
}

Result<std::string> LocalObjectStore::GetRange(std::string_view key, uint64_t offset,
                                               uint64_t length) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = Describe(key);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFoundError("no object " + path);
    return ErrnoStatus(errno, "open", path);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) return NotFoundError("no object " + path + " (not a regular file)");
  auto size = static_cast<uint64_t>(st.st_size);
  if (offset >= size) return std::string();
  std::string out;
  WEFT_RETURN_IF_ERROR(PreadAll(fd.get(), offset, std::min(length, size - offset), path, &out));
  return out;
}

Result<ObjectInfo> LocalObjectStore::Head(std::string_view key) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = Describe(key);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return NotFoundError("no object " + path);
    return ErrnoStatus(errno, "stat", path);
  }
  if (!S_ISREG(st.st_mode)) return NotFoundError("no object " + path + " (not a regular file)");
  return ObjectInfo{std::string(key), static_cast<uint64_t>(st.st_size), ModifiedMs(st)};
}

Result<std::string> LocalObjectStore::WriteTemp(const std::string& path, std::string_view data) {
  std::string dir = DirName(path);
  WEFT_RETURN_IF_ERROR(MakeDirs(dir));
  // pid + counter are unique among live writers; the random part guards against a reused pid
  // finding a stale temporary left by a crashed writer (O_EXCL would then fail).
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string temp = dir + "/" + std::string(kTempFilePrefix) + std::to_string(::getpid()) + "-" +
                     std::to_string(temp_counter_.fetch_add(1)) + "-" + std::to_string(rng());
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return ErrnoStatus(errno, "create temporary file", temp);
  Status written = WriteAll(fd.get(), data, temp);
  if (written.ok() && options_.sync && ::fsync(fd.get()) != 0) {
    written = ErrnoStatus(errno, "fsync", temp);
  }
  if (written.ok() && fd.Close() != 0) written = ErrnoStatus(errno, "close", temp);
  if (!written.ok()) {
    ::unlink(temp.c_str());
    return written.WithContext("writing " + path);
  }
  return temp;
}

Status LocalObjectStore::Put(std::string_view key, std::string_view data) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = Describe(key);
  WEFT_ASSIGN_OR_RETURN(std::string temp, WriteTemp(path, data));
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Status error = ErrnoStatus(errno, "rename " + temp + " to", path);
    ::unlink(temp.c_str());
    return error;
  }
  if (options_.sync)
    WEFT_RETURN_IF_ERROR(SyncDir(DirName(path)).WithContext("after writing " + path));
  return Status::Ok();
}

Status LocalObjectStore::PutIfAbsent(std::string_view key, std::string_view data) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = Describe(key);
  WEFT_ASSIGN_OR_RETURN(std::string temp, WriteTemp(path, data));
  // link(2) never replaces: of several linkers of the same name exactly one succeeds.
  int rc = ::link(temp.c_str(), path.c_str());
  int link_errno = errno;
  ::unlink(temp.c_str());
  if (rc != 0) {
    if (link_errno == EEXIST) return AlreadyExistsError("object " + path + " already exists");
    return ErrnoStatus(link_errno, "link " + temp + " to", path);
  }
  if (options_.sync)
    WEFT_RETURN_IF_ERROR(SyncDir(DirName(path)).WithContext("after writing " + path));
  return Status::Ok();
}

Result<std::vector<ObjectInfo>> LocalObjectStore::List(std::string_view prefix) {
  WEFT_RETURN_IF_ERROR(ValidateObjectPrefix(prefix));
  // Start at the deepest directory the prefix names completely ("a/b/c" -> "a/b/").
  size_t slash = prefix.rfind('/');
  std::string key_dir =
      slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash + 1));
  std::string dir = key_dir.empty() ? root_ : Describe(key_dir.substr(0, key_dir.size() - 1));
  std::vector<ObjectInfo> out;
  WEFT_RETURN_IF_ERROR(Walk(dir, key_dir, prefix, &out));
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Status LocalObjectStore::Delete(std::string_view key) {
  WEFT_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::string path = Describe(key);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR) {
    return ErrnoStatus(errno, "delete", path);
  }
  return Status::Ok();
}

}  // namespace weft::lake
