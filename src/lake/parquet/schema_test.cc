#include "lake/parquet/schema.h"

#include <gtest/gtest.h>

namespace weft::lake::parquet {
namespace {

SchemaElement Group(std::string name, int children, std::optional<Repetition> rep,
                    std::optional<ConvertedType> ct = std::nullopt) {
  SchemaElement e;
  e.name = std::move(name);
  e.num_children = children;
  e.repetition_type = rep;
  e.converted_type = ct;
  return e;
}
SchemaElement Leaf(std::string name, Type t, Repetition rep) {
  SchemaElement e;
  e.name = std::move(name);
  e.type = t;
  e.repetition_type = rep;
  return e;
}

TEST(SchemaTest, LevelsAndPaths) {
  // message { required int64 id; optional group tags (LIST) { repeated group list {
  //   optional binary element; } } }
  std::vector<SchemaElement> el = {Group("schema", 2, std::nullopt),
                                   Leaf("id", Type::kInt64, Repetition::kRequired),
                                   Group("tags", 1, Repetition::kOptional, ConvertedType::kList),
                                   Group("list", 1, Repetition::kRepeated),
                                   Leaf("element", Type::kByteArray, Repetition::kOptional)};
  Result<Schema> s = Schema::Build(el);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->leaves().size(), 2u);
  EXPECT_EQ(s->leaves()[1].path, "tags.list.element");
  EXPECT_EQ(s->leaves()[1].max_definition_level, 3);
  EXPECT_EQ(s->leaves()[1].max_repetition_level, 1);
  EXPECT_EQ(s->leaves()[0].max_definition_level, 0);
  EXPECT_EQ(s->FindLeaf("tags.list.element"), 1);
  EXPECT_FALSE(s->IsFlat());
  Schema copy = *s;
  EXPECT_EQ(copy.leaves()[1].element, &copy.nodes()[4].element);
}

TEST(SchemaTest, MalformedTrees) {
  EXPECT_FALSE(Schema::Build({}).ok());
  EXPECT_FALSE(Schema::Build({Group("schema", 3, std::nullopt),
                              Leaf("a", Type::kInt32, Repetition::kRequired)})
                   .ok());
  SchemaElement bad = Leaf("a", Type::kInt32, Repetition::kRequired);
  bad.type = static_cast<Type>(42);
  EXPECT_FALSE(Schema::Build({Group("schema", 1, std::nullopt), bad}).ok());
  SchemaElement flba = Leaf("f", Type::kFixedLenByteArray, Repetition::kRequired);
  EXPECT_FALSE(Schema::Build({Group("schema", 1, std::nullopt), flba}).ok());
  // Deep nesting is refused, not a stack overflow.
  std::vector<SchemaElement> deep = {Group("schema", 1, std::nullopt)};
  for (int i = 0; i < 5000; ++i) deep.push_back(Group("g", 1, Repetition::kOptional));
  deep.push_back(Leaf("x", Type::kInt32, Repetition::kOptional));
  EXPECT_FALSE(Schema::Build(deep).ok());
}

}  // namespace
}  // namespace weft::lake::parquet
