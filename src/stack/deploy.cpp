// deploy() and destroy(): walking the resources in dependency order through a ResourceProvider
// (the semantics are in template.h).
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/util.h"
#include "stack/internal.h"
#include "stack/template.h"

namespace orderflow::stack {
namespace {

using namespace detail;

bool valid_stack_name(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string new_stack_id(const DeployContext& ctx) {
  return "arn:" + ctx.partition + ":cloudformation:" + ctx.region + ":" + ctx.account_id +
         ":stack/" + ctx.stack_name + "/" + uuid4();
}

std::string describe(const std::string& logical_id, const std::string& type) {
  return "Resource " + logical_id + " (" + type + ")";
}

// A resource to delete; `retired`: replaced by a newer one of the same logical id.
struct Victim {
  ResourceState state;
  bool retired = false;
};

// Deletes the victims, a resource before those it depends on, honouring Retain. On failure the
// victims not yet deleted are left in `victims`.
Status remove_all(std::vector<Victim>& victims, ResourceProvider& provider,
                  const DeployContext& ctx, std::vector<Change>& changes) {
  // dependents[i]: victims not yet deleted that depend on victim i (by logical id).
  const std::size_t n = victims.size();
  std::vector<std::size_t> dependents(n, 0);
  std::multimap<std::string_view, std::size_t> by_id;
  for (std::size_t i = 0; i < n; ++i) by_id.emplace(victims[i].state.logical_id, i);
  for (std::size_t i = 0; i < n; ++i) {
    for (const auto& d : victims[i].state.depends_on) {
      auto [lo, hi] = by_id.equal_range(d);
      for (auto it = lo; it != hi; ++it) dependents[it->second] += it->second != i ? 1 : 0;
    }
  }
  std::vector<bool> done(n, false);
  Status status;
  for (std::size_t left = n; left > 0 && status; --left) {
    std::size_t next = n;
    for (std::size_t i = 0; i < n && next == n; ++i) {
      if (!done[i] && dependents[i] == 0) next = i;
    }
    for (std::size_t i = 0; i < n && next == n; ++i) {  // a cycle in stored state: do not hang
      if (!done[i]) next = i;
    }
    const ResourceState& s = victims[next].state;
    const std::string& policy = victims[next].retired ? s.update_replace_policy : s.deletion_policy;
    if (policy == "Retain") {
      changes.push_back(Change{s.logical_id, s.type, ChangeAction::retained, s.physical_id});
    } else if (auto r = provider.remove(ctx, s); !r) {
      Error e = r.error();
      e.message =
          describe(s.logical_id, s.type) + ": delete of " + s.physical_id + " failed: " + e.message;
      status = std::unexpected(std::move(e));
      break;
    } else {
      changes.push_back(Change{s.logical_id, s.type, ChangeAction::deleted, s.physical_id});
    }
    done[next] = true;
    for (const auto& d : s.depends_on) {
      auto [lo, hi] = by_id.equal_range(d);
      for (auto it = lo; it != hi; ++it) {
        if (it->second != next && dependents[it->second] > 0) --dependents[it->second];
      }
    }
  }
  std::vector<Victim> left;
  for (std::size_t i = 0; i < n; ++i) {
    if (!done[i]) left.push_back(std::move(victims[i]));
  }
  victims = std::move(left);
  return status;
}

}  // namespace

std::string_view to_string(ChangeAction action) {
  switch (action) {
    case ChangeAction::created:
      return "created";
    case ChangeAction::updated:
      return "updated";
    case ChangeAction::replaced:
      return "replaced";
    case ChangeAction::unchanged:
      return "unchanged";
    case ChangeAction::deleted:
      return "deleted";
    case ChangeAction::retained:
      return "retained";
  }
  return "unknown";
}

Deployment deploy(std::string_view template_text, const ParameterOverrides& overrides,
                  const StackState& previous, ResourceProvider& provider,
                  const DeployContext& ctx_in) {
  Deployment out;
  out.state = previous;
  if (!valid_stack_name(ctx_in.stack_name)) {
    out.status = invalid("stack name '" + ctx_in.stack_name + "'" +
                         " must match [A-Za-z][-A-Za-z0-9]* and be at most 128 characters");
    return out;
  }
  if (!previous.stack_name.empty() && previous.stack_name != ctx_in.stack_name) {
    out.status = invalid("the previous state is of stack " + previous.stack_name + ", not " +
                         ctx_in.stack_name);
    return out;
  }
  const bool fresh = previous.status.empty() || previous.status == "DELETE_COMPLETE";
  DeployContext ctx = ctx_in;
  if (!fresh) {
    ctx.stack_id = previous.stack_id;
  } else if (ctx.stack_id.empty()) {
    ctx.stack_id = new_stack_id(ctx);
  }

  Pseudo pseudo{ctx.region,   ctx.account_id, ctx.stack_name,
                ctx.stack_id, ctx.partition,  ctx.url_suffix};
  auto loaded = load_model(template_text, overrides, pseudo);
  if (!loaded) {
    out.status = std::unexpected(loaded.error());
    return out;
  }
  const Model& model = *loaded;

  StackState& st = out.state;
  st.stack_name = ctx.stack_name;
  st.stack_id = ctx.stack_id;
  st.parameters.clear();
  for (const auto& [name, p] : model.parameters) st.parameters[name] = p.no_echo ? "****" : p.text;

  ResourceStates next;  // resources done in this run, by logical id
  std::vector<ResourceState> retired = previous.retired;
  auto failed = [&](Error e, const char* status) {
    st.resources.clear();
    for (auto& [id, r] : next) st.resources.emplace(id, r);
    for (const auto& [id, r] : previous.resources)
      st.resources.emplace(id, r);  // not done: as it was
    st.retired = retired;
    st.status = status;
    st.status_reason = e.message;
    st.outputs.clear();
    out.status = std::unexpected(std::move(e));
    return out;
  };
  const char* failed_status = fresh ? "CREATE_FAILED" : "UPDATE_FAILED";

  Budget budget;
  ConditionLookup conditions = [&model](const std::string& name) -> Result<bool> {
    auto it = model.conditions.find(name);
    if (it == model.conditions.end()) return invalid("unknown condition '" + name + "'");
    return it->second;
  };

  for (std::size_t index : model.order) {
    const ResourceDecl& d = model.resources[index];
    const std::string where = describe(d.logical_id, d.type);
    ResourceSpec spec{d.logical_id, d.type, {}};
    if (!d.properties.is_null()) {
      Evaluator ev(model, Section::resources, conditions, &next, budget);
      auto props = ev.eval(d.properties);
      if (!props) return failed(located(where, props.error()), failed_status);
      if (*props && (*props)->is_object()) spec.properties = std::move((*props)->get_object());
    }
    auto finish = [&](ResourceState s) {
      s.logical_id = d.logical_id;
      s.type = d.type;
      s.properties = spec.properties;
      s.depends_on = d.dependencies;
      s.deletion_policy = d.deletion_policy;
      s.update_replace_policy = d.update_replace_policy;
      return s;
    };
    auto provider_error = [&](std::string_view action, Error e) {
      e.message = where + ": " + std::string(action) + " failed: " + e.message;
      return e;
    };

    auto prev = previous.resources.find(d.logical_id);
    if (prev == previous.resources.end() || prev->second.type != d.type) {
      auto created = provider.create(ctx, spec);
      if (!created) return failed(provider_error("create", created.error()), failed_status);
      ResourceState s = finish(std::move(*created));
      bool replacing = prev != previous.resources.end();
      out.changes.push_back(Change{d.logical_id, d.type,
                                   replacing ? ChangeAction::replaced : ChangeAction::created,
                                   s.physical_id});
      if (replacing) retired.push_back(prev->second);
      next.emplace(d.logical_id, std::move(s));
    } else if (prev->second.properties == spec.properties) {
      ResourceState s = finish(prev->second);
      out.changes.push_back(Change{d.logical_id, d.type, ChangeAction::unchanged, s.physical_id});
      next.emplace(d.logical_id, std::move(s));
    } else {
      auto updated = provider.update(ctx, prev->second, spec);
      if (!updated) return failed(provider_error("update", updated.error()), failed_status);
      ResourceState s = finish(std::move(updated->state));
      out.changes.push_back(Change{
          d.logical_id, d.type, updated->replaced ? ChangeAction::replaced : ChangeAction::updated,
          s.physical_id});
      if (updated->replaced) retired.push_back(prev->second);
      next.emplace(d.logical_id, std::move(s));
    }
  }

  // Cleanup: what left the template, and what was replaced.
  std::vector<Victim> victims;
  for (const auto& [id, r] : previous.resources) {
    if (!next.contains(id)) victims.push_back(Victim{r, false});
  }
  for (auto& r : retired) victims.push_back(Victim{std::move(r), true});
  retired.clear();
  if (auto s = remove_all(victims, provider, ctx, out.changes); !s) {
    // `next` is what stays; the victims not deleted are still there.
    for (auto& v : victims) {
      if (v.retired) {
        retired.push_back(std::move(v.state));
      } else {
        next.emplace(v.state.logical_id, std::move(v.state));
      }
    }
    st.resources.clear();
    for (auto& [id, r] : next) st.resources.emplace(id, r);
    st.retired = retired;
    st.status = failed_status;
    st.status_reason = s.error().message;
    st.outputs.clear();
    out.status = std::unexpected(s.error());
    return out;
  }

  st.resources.clear();
  for (auto& [id, r] : next) st.resources.emplace(id, r);
  st.retired.clear();
  st.outputs.clear();
  Evaluator ev(model, Section::outputs, conditions, &next, budget);
  for (const auto& o : model.outputs) {
    if (!o.enabled) continue;
    const std::string where = "Output " + o.key;
    auto v = ev.eval(o.value);
    if (!v) return failed(located(where, v.error()), failed_status);
    std::optional<std::string> text = *v ? scalar_text(**v) : std::nullopt;
    if (!text)
      return failed(
          located(where, Error{ErrorCode::validation_error, "the Value must be a string"}),
          failed_status);
    st.outputs.push_back(StackOutput{o.key, std::move(*text), o.description});
  }
  st.status = fresh ? "CREATE_COMPLETE" : "UPDATE_COMPLETE";
  st.status_reason.clear();
  out.status = {};
  return out;
}

Deployment destroy(const StackState& previous, ResourceProvider& provider,
                   const DeployContext& ctx_in) {
  Deployment out;
  out.state = previous;
  DeployContext ctx = ctx_in;
  if (!previous.stack_name.empty()) ctx.stack_name = previous.stack_name;
  ctx.stack_id = previous.stack_id;
  std::vector<Victim> victims;
  for (const auto& [id, r] : previous.resources) victims.push_back(Victim{r, false});
  for (const auto& r : previous.retired) victims.push_back(Victim{r, true});
  StackState& st = out.state;
  st.outputs.clear();
  if (auto s = remove_all(victims, provider, ctx, out.changes); !s) {
    st.resources.clear();
    st.retired.clear();
    for (auto& v : victims) {
      if (v.retired) {
        st.retired.push_back(std::move(v.state));
      } else {
        std::string id = v.state.logical_id;
        st.resources.emplace(std::move(id), std::move(v.state));
      }
    }
    st.status = "DELETE_FAILED";
    st.status_reason = s.error().message;
    out.status = std::unexpected(s.error());
    return out;
  }
  st.resources.clear();
  st.retired.clear();
  st.parameters.clear();
  st.status = "DELETE_COMPLETE";
  st.status_reason.clear();
  out.status = {};
  return out;
}

}  // namespace orderflow::stack
