#include "lake/delta/json_util.h"

#include <cmath>
#include <limits>

namespace weft::lake::delta::json_util {

namespace {

std::string Where(std::string_view ctx, std::string_view key) {
  std::string s(ctx);
  if (!s.empty()) s += '.';
  s += key;
  return s;
}

const Json* Member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Status WrongType(std::string_view ctx, std::string_view key, std::string_view expected,
                 const Json& got) {
  return InvalidArgumentError(Where(ctx, key) + ": expected " + std::string(expected) + ", got " +
                              TypeName(got));
}

}  // namespace

Result<Json> Parse(std::string_view text, std::string_view what) {
  // The non-throwing overload reports failure as a discarded value; the position comes from a
  // second, throwing parse inside a try block (only on the error path).
  Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_discarded()) return j;
  try {
    Json ignored = Json::parse(text.begin(), text.end());
    (void)ignored;
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string(what) + ": invalid JSON: " + e.what());
  }
  return InvalidArgumentError(std::string(what) + ": invalid JSON");
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

const char* TypeName(const Json& j) {
  return j.type_name();
}

std::optional<int64_t> AsInt64(const Json& j) {
  if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
  if (j.is_number_unsigned()) {
    uint64_t u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::trunc(d) != d || d < -9.2e18 || d > 9.2e18) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view ctx) {
  WEFT_ASSIGN_OR_RETURN(auto v, GetOptString(obj, key, ctx));
  if (!v) return InvalidArgumentError(Where(ctx, key) + ": missing (required string)");
  return *v;
}

Result<int64_t> GetInt64(const Json& obj, std::string_view key, std::string_view ctx) {
  WEFT_ASSIGN_OR_RETURN(auto v, GetOptInt64(obj, key, ctx));
  if (!v) return InvalidArgumentError(Where(ctx, key) + ": missing (required integer)");
  return *v;
}

Result<bool> GetBool(const Json& obj, std::string_view key, std::string_view ctx) {
  WEFT_ASSIGN_OR_RETURN(auto v, GetOptBool(obj, key, ctx));
  if (!v) return InvalidArgumentError(Where(ctx, key) + ": missing (required boolean)");
  return *v;
}

Result<std::optional<std::string>> GetOptString(const Json& obj, std::string_view key,
                                                std::string_view ctx) {
  const Json* m = Member(obj, key);
  if (m == nullptr) return std::optional<std::string>();
  if (!m->is_string()) return WrongType(ctx, key, "a string", *m);
  return std::optional<std::string>(m->get<std::string>());
}

Result<std::optional<int64_t>> GetOptInt64(const Json& obj, std::string_view key,
                                           std::string_view ctx) {
  const Json* m = Member(obj, key);
  if (m == nullptr) return std::optional<int64_t>();
  std::optional<int64_t> v = AsInt64(*m);
  if (!v) return WrongType(ctx, key, "a 64-bit integer", *m);
  return v;
}

Result<std::optional<bool>> GetOptBool(const Json& obj, std::string_view key,
                                       std::string_view ctx) {
  const Json* m = Member(obj, key);
  if (m == nullptr) return std::optional<bool>();
  if (!m->is_boolean()) return WrongType(ctx, key, "a boolean", *m);
  return std::optional<bool>(m->get<bool>());
}

Result<std::map<std::string, std::optional<std::string>>> GetStringMapWithNulls(
    const Json& obj, std::string_view key, std::string_view ctx) {
  std::map<std::string, std::optional<std::string>> out;
  const Json* m = Member(obj, key);
  if (m == nullptr) return out;
  if (!m->is_object()) return WrongType(ctx, key, "an object of strings", *m);
  for (auto it = m->begin(); it != m->end(); ++it) {
    if (it->is_null()) {
      out.emplace(it.key(), std::nullopt);
    } else if (it->is_string()) {
      out.emplace(it.key(), it->get<std::string>());
    } else {
      return WrongType(ctx, std::string(key) + "." + it.key(), "a string", *it);
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> GetStringMap(const Json& obj, std::string_view key,
                                                        std::string_view ctx) {
  WEFT_ASSIGN_OR_RETURN(auto with_nulls, GetStringMapWithNulls(obj, key, ctx));
  std::map<std::string, std::string> out;
  for (auto& [k, v] : with_nulls) {
    if (v) out.emplace(k, std::move(*v));
  }
  return out;
}

Result<std::vector<std::string>> GetStringArray(const Json& obj, std::string_view key,
                                                std::string_view ctx) {
  WEFT_ASSIGN_OR_RETURN(auto v, GetOptStringArray(obj, key, ctx));
  if (!v) return std::vector<std::string>();
  return std::move(*v);
}

Result<std::optional<std::vector<std::string>>> GetOptStringArray(const Json& obj,
                                                                  std::string_view key,
                                                                  std::string_view ctx) {
  const Json* m = Member(obj, key);
  if (m == nullptr) return std::optional<std::vector<std::string>>();
  if (!m->is_array()) return WrongType(ctx, key, "an array of strings", *m);
  std::vector<std::string> out;
  for (size_t i = 0; i < m->size(); ++i) {
    const Json& e = (*m)[i];
    if (!e.is_string()) {
      return WrongType(ctx, std::string(key) + "[" + std::to_string(i) + "]", "a string", e);
    }
    out.push_back(e.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

}  // namespace weft::lake::delta::json_util
