#include "engine/lambda.h"

#include <utility>

#include "common/util.h"

namespace orderflow::engine {

Result<std::unique_ptr<Lambda>> Lambda::open(Clock& clock, Queues& queues, LogSink& logs, FunctionsOptions options,
                                             std::unique_ptr<ProcessLauncher> launcher) {
  std::unique_ptr<Lambda> l(new Lambda(clock, queues, options));
  l->launcher_ = launcher ? std::move(launcher) : make_posix_process_launcher();
  auto functions = Functions::open(clock, *l->launcher_, logs, std::move(options));
  if (!functions) return std::unexpected(functions.error());
  l->functions_ = std::move(*functions);
  return l;
}

Lambda::~Lambda() {
  shutdown();
  functions_.reset();
  launcher_.reset();  // kills what is left and waits for the exits
}

void Lambda::shutdown() {
  std::map<std::string, std::unique_ptr<EventSourceMapping>, std::less<>> stopping;
  {
    std::lock_guard g(mu_);
    stopped_ = true;
    stopping.swap(mappings_);
  }
  stopping.clear();  // joins the pollers
  if (functions_) functions_->shutdown();
}

Result<std::string> Lambda::create_mapping(EventSourceMappingConfig config) {
  std::string uuid = uuid4();
  if (auto s = put_mapping(uuid, std::move(config)); !s) return std::unexpected(s.error());
  return uuid;
}

Status Lambda::put_mapping(std::string uuid, EventSourceMappingConfig config) {
  if (uuid.empty() || uuid.size() > 64) return fail(ErrorCode::invalid_parameter_value, "Invalid mapping UUID.");
  auto created = EventSourceMapping::create(queues_, *functions_, clock_, std::move(config));
  if (!created) return std::unexpected(created.error());
  std::unique_ptr<EventSourceMapping> replaced;
  {
    std::lock_guard g(mu_);
    if (stopped_) return fail(ErrorCode::internal_error, "Lambda is shutting down.");
    auto& slot = mappings_[uuid];
    replaced = std::move(slot);
    slot = std::move(*created);
  }
  return {};  // `replaced` stops here, outside the lock
}

Status Lambda::delete_mapping(std::string_view uuid) {
  std::unique_ptr<EventSourceMapping> removed;
  {
    std::lock_guard g(mu_);
    auto it = mappings_.find(uuid);
    if (it == mappings_.end())
      return fail(ErrorCode::lambda_resource_not_found,
                  "The resource you requested does not exist. (Service: Lambda, mapping " + std::string(uuid) + ")");
    removed = std::move(it->second);
    mappings_.erase(it);
  }
  return {};
}

std::string Lambda::mapping_arn(std::string_view uuid) const {
  return "arn:aws:lambda:" + options_.region + ":" + options_.account_id + ":event-source-mapping:" +
         std::string(uuid);
}

std::optional<Lambda::MappingInfo> Lambda::mapping(std::string_view uuid) const {
  std::lock_guard g(mu_);
  auto it = mappings_.find(uuid);
  if (it == mappings_.end()) return std::nullopt;
  return MappingInfo{it->first, mapping_arn(it->first), it->second->config(), it->second->stats()};
}

std::vector<Lambda::MappingInfo> Lambda::mappings() const {
  std::lock_guard g(mu_);
  std::vector<MappingInfo> out;
  for (const auto& [uuid, m] : mappings_) out.push_back({uuid, mapping_arn(uuid), m->config(), m->stats()});
  return out;
}

}  // namespace orderflow::engine
