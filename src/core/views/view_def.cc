#include "core/views/view_def.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "common/strings.h"
#include "common/time_format.h"
#include "model/yaml_reader.h"

namespace weft::core::views {

namespace {

using model::YamlFields;
using model::YamlReader;
using model::YamlValue;
namespace yaml_error = model::yaml_error;

const std::vector<std::string>& AggNames() {
  static const std::vector<std::string> names = {"mean", "min", "max", "last"};
  return names;
}
const std::vector<std::string>& FillNames() {
  static const std::vector<std::string> names = {"none", "previous"};
  return names;
}

struct Entry {
  std::string key;
  SourceLocation key_loc;
  YamlValue value;
};

// The entries of a user-keyed mapping in document order (YamlFields is ordered by key, and the
// order of views and signals matters). Duplicate and non-scalar keys were reported by OpenMap;
// they are skipped here.
std::vector<Entry> InOrder(const YamlReader& r, const YamlValue& map, const YamlFields& fields) {
  std::vector<Entry> out;
  if (!fields.ok()) return out;
  std::set<std::string> seen;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    const std::string& key = it->first.Scalar();
    if (!seen.insert(key).second) continue;
    if (std::optional<YamlValue> v = fields.Get(key)) {
      out.push_back({key, r.At(it->first, map.loc), std::move(*v)});
    }
  }
  return out;
}

class ViewsParser {
 public:
  ViewsParser(const std::string& file, Diagnostics* diags) : r_(file, diags) {}

  std::vector<ViewDef> Parse(std::string_view text) {
    std::vector<ViewDef> out;
    std::optional<YamlValue> root = r_.ParseDocument(text, kMaxViewsFileBytes);
    if (!root) return out;
    YamlFields top = r_.OpenMap(*root, {"views"});
    std::optional<YamlValue> views = r_.Required(top, "views");
    if (!views) return out;
    YamlFields by_name = r_.OpenMap(*views, {});
    for (const Entry& e : InOrder(r_, *views, by_name)) {
      if (std::optional<ViewDef> v = ParseView(e.key, e.key_loc, e.value)) {
        out.push_back(std::move(*v));
      }
    }
    if (by_name.ok() && views->node.size() == 0) {
      r_.Err(yaml_error::kMissingField, *views, "no views are declared; expected view names");
    }
    return out;
  }

 private:
  std::optional<ViewDef> ParseView(const std::string& name, const SourceLocation& at,
                                   const YamlValue& v) {
    const size_t errors_before = r_.diags()->error_count();
    ViewDef view;
    view.name = name;
    view.where = at;
    if (!model::IsValidId(name)) {
      r_.Err(yaml_error::kInvalidValue, at, v.path,
             "invalid view name " + model::Quote(name) +
                 "; expected 1-128 characters from A-Z a-z 0-9 _ - .");
    }
    YamlFields f =
        r_.OpenMap(v, {"description", "asset_type", "period", "signals", "good_only", "fill"});
    if (!f.ok()) return std::nullopt;
    if (auto d = f.Get("description")) {
      if (auto s = r_.Str(*d)) view.description = *s;
    }
    if (auto t = f.Get("asset_type")) ParseAssetTypes(*t, &view);
    if (auto p = r_.Required(f, "period")) ParsePeriod(*p, &view);
    if (auto g = f.Get("good_only")) {
      if (auto b = r_.Bool(*g)) view.good_only = *b;
    }
    if (auto fill = f.Get("fill")) {
      if (auto s = r_.Str(*fill)) {
        if (*s == "none") {
          view.fill = Fill::kNone;
        } else if (*s == "previous") {
          view.fill = Fill::kPrevious;
        } else {
          r_.Err(view_error::kUnknownFill, *fill,
                 "unknown fill " + model::Quote(*s) + model::Hint(*s, FillNames()) + "; " +
                     model::OneOf(FillNames()));
        }
      }
    }
    if (auto s = r_.Required(f, "signals")) ParseSignals(*s, &view);
    if (r_.diags()->error_count() != errors_before) return std::nullopt;
    return view;
  }

  void ParseAssetTypes(const YamlValue& v, ViewDef* view) {
    if (v.node.IsSequence()) {
      for (const YamlValue& item : r_.OpenList(v)) {
        if (auto id = r_.Id(item, "asset type")) view->asset_types.push_back(*id);
      }
      if (v.node.size() == 0) {
        r_.Err(yaml_error::kInvalidValue, v,
               "the list of asset types is empty; leave asset_type out to read every type");
      }
      return;
    }
    if (auto id = r_.Id(v, "asset type")) view->asset_types.push_back(*id);
  }

  void ParsePeriod(const YamlValue& v, ViewDef* view) {
    auto s = r_.Str(v);
    if (!s) return;
    Result<Micros> d = ParseDuration(*s);
    if (!d.ok()) {
      r_.Err(view_error::kInvalidPeriod, v,
             "invalid period " + model::Quote(*s) + ": " + d.status().message() +
                 "; expected e.g. 1s, 500ms, 1min, 1h");
      return;
    }
    if (d->count() <= 0 || d->count() > kMaxPeriodUs) {
      r_.Err(view_error::kInvalidPeriod, v,
             "invalid period " + model::Quote(*s) + ": expected more than 0 and at most 366d");
      return;
    }
    view->period_us = d->count();
  }

  void ParseSignals(const YamlValue& v, ViewDef* view) {
    YamlFields by_name = r_.OpenMap(v, {});
    if (!by_name.ok()) return;
    if (v.node.size() == 0) {
      r_.Err(view_error::kNoSignals, v, "a view needs at least one signal");
      return;
    }
    std::set<std::string> columns = {"ts", "asset"};
    for (const Entry& e : InOrder(r_, v, by_name)) {
      const YamlValue& value = e.value;
      std::optional<ViewSignal> s = ParseSignal(e.key, e.key_loc, value);
      if (!s) continue;
      if (!columns.insert(s->column).second) {
        const bool reserved = s->column == "ts" || s->column == "asset";
        r_.Err(view_error::kDuplicateColumn, value,
               "output column '" + s->column + "' " +
                   (reserved ? std::string("is reserved (the view's ts and asset columns)")
                             : std::string("is already used by another signal")) +
                   "; give this signal another name with `as:`");
        continue;
      }
      view->signals.push_back(std::move(*s));
    }
  }

  std::optional<ViewSignal> ParseSignal(const std::string& name, const SourceLocation& at,
                                        const YamlValue& v) {
    const size_t errors_before = r_.diags()->error_count();
    ViewSignal s;
    s.signal = name;
    s.column = name;
    s.where = at;
    if (!model::IsValidId(name)) {
      r_.Err(yaml_error::kInvalidValue, at, v.path,
             "invalid signal name " + model::Quote(name) +
                 "; expected 1-128 characters from A-Z a-z 0-9 _ - .");
    }
    // Shorthand: `current: A` is `current: {unit: A}`.
    if (v.node.IsScalar()) {
      ParseUnitField(v, &s);
    } else {
      YamlFields f = r_.OpenMap(v, {"unit", "agg", "as"});
      if (!f.ok()) return std::nullopt;
      if (auto u = r_.Required(f, "unit")) ParseUnitField(*u, &s);
      if (auto a = f.Get("agg")) {
        if (auto text = r_.Str(*a)) {
          const auto& names = AggNames();
          auto it = std::find(names.begin(), names.end(), *text);
          if (it == names.end()) {
            r_.Err(view_error::kUnknownAgg, *a,
                   "unknown agg " + model::Quote(*text) + model::Hint(*text, names) + "; " +
                       model::OneOf(names));
          } else {
            s.agg = static_cast<Agg>(it - names.begin());
          }
        }
      }
      if (auto as = f.Get("as")) {
        if (auto id = r_.Id(*as, "column")) s.column = *id;
      }
    }
    if (r_.diags()->error_count() != errors_before) return std::nullopt;
    return s;
  }

  void ParseUnitField(const YamlValue& v, ViewSignal* s) {
    auto text = r_.Str(v);
    if (!text) return;
    Result<model::Unit> unit = model::ParseUnit(*text);
    if (!unit.ok()) {
      r_.Err(view_error::kUnknownUnit, v, unit.status().message());
      return;
    }
    s->unit = std::move(unit).value();
  }

  YamlReader r_;
};

}  // namespace

std::string_view AggName(Agg agg) {
  return AggNames()[static_cast<size_t>(agg)];
}

std::string_view FillName(Fill fill) {
  return FillNames()[static_cast<size_t>(fill)];
}

Result<std::vector<ViewDef>> ParseViews(std::string_view yaml, const std::string& file_name,
                                        Diagnostics* diags) {
  const Diagnostics::Mark before = diags->mark();
  ViewsParser parser(file_name, diags);
  std::vector<ViewDef> views = parser.Parse(yaml);
  WEFT_RETURN_IF_ERROR(diags->ErrorsSince(before, file_name));
  return views;
}

Result<std::vector<ViewDef>> ParseViews(std::string_view yaml, const std::string& file_name) {
  Diagnostics diags;
  return ParseViews(yaml, file_name, &diags);
}

Result<std::vector<ViewDef>> LoadViewsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot open views file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return UnavailableError("cannot read views file '" + path + "'");
  return ParseViews(text.str(), path);
}

Result<const ViewDef*> FindView(const std::vector<ViewDef>& views, std::string_view name) {
  std::vector<std::string> names;
  for (const ViewDef& v : views) {
    if (v.name == name) return &v;
    names.push_back(v.name);
  }
  return NotFoundError(UnknownNameMessage("view", name, names));
}

void IncludeSubtypes(const model::Plant& plant, ViewDef* view) {
  if (view->asset_types.empty()) return;
  const std::vector<std::string> declared = view->asset_types;
  for (const auto& [type_name, type] : plant.asset_types) {
    if (std::find(view->asset_types.begin(), view->asset_types.end(), type_name) !=
        view->asset_types.end()) {
      continue;
    }
    for (const std::string& ancestor : declared) {
      if (plant.IsA(type_name, ancestor)) {
        view->asset_types.push_back(type_name);
        break;
      }
    }
  }
}

}  // namespace weft::core::views
