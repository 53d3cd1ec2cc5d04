// StackState <-> JSON (the format is in template.h). Reading is strict: the file comes from the
// data directory and may be damaged.
#include <string>
#include <utility>

#include "stack/internal.h"
#include "stack/template.h"

namespace orderflow::stack {
namespace {

using detail::invalid;
namespace json = boost::json;

constexpr std::int64_t kFormat = 1;

json::value resource_to_json(const ResourceState& r) {
  json::object attributes;
  for (const auto& [k, v] : r.attributes) attributes[k] = v;
  json::array depends_on;
  for (const auto& d : r.depends_on) depends_on.emplace_back(json::string(d));
  return json::object{
      {"logical_id", r.logical_id},           {"type", r.type},
      {"physical_id", r.physical_id},         {"properties", r.properties},
      {"attributes", std::move(attributes)},  {"depends_on", std::move(depends_on)},
      {"deletion_policy", r.deletion_policy}, {"update_replace_policy", r.update_replace_policy},
  };
}

// Field readers: each fails with a message naming the field.
class Reader {
 public:
  Reader(const json::value& v, std::string where) : where_(std::move(where)) {
    object_ = v.if_object();
  }
  bool ok() const { return object_ != nullptr; }

  Result<std::string> string(std::string_view key) const {
    const json::value* v = object_ != nullptr ? object_->if_contains(key) : nullptr;
    if (v == nullptr || !v->is_string()) return bad(key, "a string");
    return std::string(v->get_string());
  }
  Result<const json::object*> object(std::string_view key) const {
    const json::value* v = object_ != nullptr ? object_->if_contains(key) : nullptr;
    if (v == nullptr || !v->is_object()) return bad(key, "an object");
    return &v->get_object();
  }
  Result<const json::array*> array(std::string_view key) const {
    const json::value* v = object_ != nullptr ? object_->if_contains(key) : nullptr;
    if (v == nullptr || !v->is_array()) return bad(key, "a list");
    return &v->get_array();
  }

  std::unexpected<Error> bad(std::string_view key, std::string_view what) const {
    return invalid("stack state is malformed: " + where_ + "." + std::string(key) + " must be " +
                   std::string(what));
  }

 private:
  const json::object* object_ = nullptr;
  std::string where_;
};

Result<ResourceState> resource_from_json(const json::value& v, const std::string& where) {
  Reader r(v, where);
  if (!r.ok()) return invalid("stack state is malformed: " + where + " must be an object");
  ResourceState s;
  auto logical_id = r.string("logical_id");
  auto type = r.string("type");
  auto physical_id = r.string("physical_id");
  auto deletion = r.string("deletion_policy");
  auto replace = r.string("update_replace_policy");
  for (auto* f : {&logical_id, &type, &physical_id, &deletion, &replace}) {
    if (!*f) return std::unexpected(f->error());
  }
  s.logical_id = std::move(*logical_id);
  s.type = std::move(*type);
  s.physical_id = std::move(*physical_id);
  s.deletion_policy = std::move(*deletion);
  s.update_replace_policy = std::move(*replace);
  auto properties = r.object("properties");
  if (!properties) return std::unexpected(properties.error());
  s.properties = **properties;
  auto attributes = r.object("attributes");
  if (!attributes) return std::unexpected(attributes.error());
  for (const auto& kv : **attributes) s.attributes.emplace(std::string(kv.key()), kv.value());
  auto depends_on = r.array("depends_on");
  if (!depends_on) return std::unexpected(depends_on.error());
  for (const auto& d : **depends_on) {
    if (!d.is_string()) return r.bad("depends_on", "a list of strings");
    s.depends_on.emplace_back(d.get_string());
  }
  return s;
}

}  // namespace

json::value to_json(const StackState& state) {
  json::object parameters;
  for (const auto& [k, v] : state.parameters) parameters[k] = v;
  json::array resources;
  for (const auto& [id, r] : state.resources) resources.push_back(resource_to_json(r));
  json::array retired;
  for (const auto& r : state.retired) retired.push_back(resource_to_json(r));
  json::array outputs;
  for (const auto& o : state.outputs) {
    outputs.push_back(
        json::object{{"key", o.key}, {"value", o.value}, {"description", o.description}});
  }
  return json::object{
      {"format", kFormat},
      {"stack_name", state.stack_name},
      {"stack_id", state.stack_id},
      {"status", state.status},
      {"status_reason", state.status_reason},
      {"parameters", std::move(parameters)},
      {"resources", std::move(resources)},
      {"retired", std::move(retired)},
      {"outputs", std::move(outputs)},
  };
}

Result<StackState> stack_state_from_json(const json::value& v) {
  Reader r(v, "state");
  if (!r.ok()) return invalid("stack state is malformed: not an object");
  const json::value* format = v.get_object().if_contains("format");
  if (format == nullptr || !format->is_int64() || format->get_int64() != kFormat) {
    return invalid("stack state has an unknown format (expected \"format\": 1)");
  }
  StackState s;
  auto name = r.string("stack_name");
  auto id = r.string("stack_id");
  auto status = r.string("status");
  auto reason = r.string("status_reason");
  for (auto* f : {&name, &id, &status, &reason}) {
    if (!*f) return std::unexpected(f->error());
  }
  s.stack_name = std::move(*name);
  s.stack_id = std::move(*id);
  s.status = std::move(*status);
  s.status_reason = std::move(*reason);

  auto parameters = r.object("parameters");
  if (!parameters) return std::unexpected(parameters.error());
  for (const auto& kv : **parameters) {
    if (!kv.value().is_string()) return r.bad("parameters", "an object of strings");
    s.parameters.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
  }
  auto resources = r.array("resources");
  if (!resources) return std::unexpected(resources.error());
  for (std::size_t i = 0; i < (*resources)->size(); ++i) {
    auto res = resource_from_json((**resources)[i], "resources[" + std::to_string(i) + "]");
    if (!res) return std::unexpected(res.error());
    std::string logical_id = res->logical_id;
    if (!s.resources.emplace(logical_id, std::move(*res)).second) {
      return invalid("stack state is malformed: resource " + logical_id + " appears twice");
    }
  }
  auto retired = r.array("retired");
  if (!retired) return std::unexpected(retired.error());
  for (std::size_t i = 0; i < (*retired)->size(); ++i) {
    auto res = resource_from_json((**retired)[i], "retired[" + std::to_string(i) + "]");
    if (!res) return std::unexpected(res.error());
    s.retired.push_back(std::move(*res));
  }
  auto outputs = r.array("outputs");
  if (!outputs) return std::unexpected(outputs.error());
  for (std::size_t i = 0; i < (*outputs)->size(); ++i) {
    Reader o((**outputs)[i], "outputs[" + std::to_string(i) + "]");
    auto key = o.string("key");
    auto value = o.string("value");
    auto description = o.string("description");
    for (auto* f : {&key, &value, &description}) {
      if (!*f) return std::unexpected(f->error());
    }
    s.outputs.push_back(StackOutput{std::move(*key), std::move(*value), std::move(*description)});
  }
  return s;
}

}  // namespace orderflow::stack
