// Reading Weft's YAML configuration files (plant.yaml, fault schedules, edge.yaml) with every
// problem reported, in one run, at its file, line, column and field path.
//
//   Diagnostics diags;
//   YamlReader r("faults.yaml", &diags);
//   std::optional<YamlValue> root = r.ParseDocument(text);
//   if (!root) return diags.ToStatus("faults.yaml");
//   YamlFields f = r.OpenMap(*root, {"faults"});          // unknown keys are reported
//   if (auto list = r.Required(f, "faults")) {
//     for (const YamlValue& item : r.OpenList(*list)) { ... r.Str(...), r.Num(...) ... }
//   }
//
// Every accessor returns nullopt (or an empty/not-ok result) after recording a diagnostic, so a
// parser goes on and finds the next problem. Bad input never throws out of the reader: yaml-cpp's
// exceptions become diagnostics, text must be UTF-8, quoted values are cut short in messages,
// and a work budget bounds what YAML aliases can make a parser read again and again.
//
// Thread-safety: a YamlReader is used by one thread.
#ifndef WEFT_MODEL_YAML_READER_H_
#define WEFT_MODEL_YAML_READER_H_

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/diagnostic.h"

namespace weft::model {

//! Diagnostic kinds every YAML file can have.
namespace yaml_error {
inline constexpr char kYamlSyntax[] = "yaml_syntax";
inline constexpr char kInputTooLarge[] = "input_too_large";
inline constexpr char kWrongType[] = "wrong_type";
inline constexpr char kMissingField[] = "missing_field";
inline constexpr char kUnknownField[] = "unknown_field";
inline constexpr char kDuplicateKey[] = "duplicate_key";
inline constexpr char kInvalidValue[] = "invalid_value";
}  // namespace yaml_error

//! A value found in the document, with where it is and its field path.
struct YamlValue {
  YAML::Node node;
  SourceLocation loc;
  std::string path;
};

//! The keys of a mapping, checked against the allowed set.
class YamlFields {
 public:
  bool ok() const { return ok_; }
  const SourceLocation& loc() const { return loc_; }
  const std::string& path() const { return path_; }
  std::optional<YamlValue> Get(std::string_view key) const;
  bool Has(std::string_view key) const { return values_.count(std::string(key)) > 0; }

 private:
  friend class YamlReader;
  bool ok_ = false;
  SourceLocation loc_;
  std::string path_;
  std::map<std::string, YamlValue> values_;
  std::map<std::string, int> key_lines_;
};

class YamlReader {
 public:
  YamlReader(std::string file, Diagnostics* diags) : file_(std::move(file)), diags_(diags) {}

  //! Parses one YAML document of at most `max_bytes`; nullopt (with diagnostics) when it is not
  //! valid YAML, is empty, or too large. A second document is an error but the first is
  //! returned. Sets the work budget from the input size.
  std::optional<YamlValue> ParseDocument(std::string_view text, size_t max_bytes);

  //! Checks that `v` is a mapping and that its keys are in `allowed` (empty: any key). Unknown
  //! keys (with a "did you mean") and duplicate keys are reported.
  YamlFields OpenMap(const YamlValue& v, std::initializer_list<std::string_view> allowed);
  //! The items of a list (empty after reporting when `v` is not a list).
  std::vector<YamlValue> OpenList(const YamlValue& v);
  //! The value of a required key; reports missing_field at the mapping when absent.
  std::optional<YamlValue> Required(const YamlFields& f, std::string_view key);

  std::optional<std::string> Str(const YamlValue& v);
  //! An id: 1-128 characters from A-Z a-z 0-9 _ - . (safe in topics, paths and URLs).
  std::optional<std::string> Id(const YamlValue& v, const char* what);
  std::optional<double> Num(const YamlValue& v);
  std::optional<int64_t> Int(const YamlValue& v, int64_t min, int64_t max);
  std::optional<bool> Bool(const YamlValue& v);
  std::optional<std::vector<std::string>> StrList(const YamlValue& v);
  //! "250ms", "1.5min", "2h" (see common/time_format.h).
  std::optional<Micros> Duration(const YamlValue& v);

  void Err(const char* kind, const SourceLocation& at, const std::string& path, std::string msg) {
    diags_->Error(kind, at, path, std::move(msg));
  }
  void Err(const char* kind, const YamlValue& v, std::string msg) {
    Err(kind, v.loc, v.path, std::move(msg));
  }
  void Warn(const char* kind, const SourceLocation& at, const std::string& path, std::string msg) {
    diags_->Warning(kind, at, path, std::move(msg));
  }
  //! The 1-based place of a node, or `fallback` when yaml-cpp has none.
  SourceLocation At(const YAML::Node& n, const SourceLocation& fallback) const;

  const std::string& file() const { return file_; }
  Diagnostics* diags() const { return diags_; }

 protected:
  //! Charges `items` mapping entries or list items to the budget; false (reported once) when
  //! it is spent.
  bool Spend(size_t items, const YamlValue& at);

  std::string file_;
  Diagnostics* diags_;

 private:
  size_t budget_ = SIZE_MAX;  // ParseDocument() sets it from the input size
  bool budget_exhausted_ = false;
};

//! A user's text, quoted for a message and cut to 60 bytes.
std::string Quote(std::string_view text);
//! What a node is, for "expected X, got ..." messages.
std::string NodeKind(const YAML::Node& n);
//! " (did you mean 'x'?)" or "".
std::string Hint(std::string_view word, const std::vector<std::string>& candidates);
//! "expected one of: a, b, c".
std::string OneOf(const std::vector<std::string>& candidates);
//! Field paths: Child("a.b", "c") == "a.b.c"; Index("a", 2) == "a[2]".
std::string Child(const std::string& path, std::string_view key);
std::string Index(const std::string& path, size_t i);
bool IsValidId(std::string_view id);
//! Offset of the first byte that is not valid UTF-8, or npos.
size_t InvalidUtf8At(std::string_view s);

}  // namespace weft::model

#endif  // WEFT_MODEL_YAML_READER_H_
