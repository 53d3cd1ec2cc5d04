#include "stack/local_stack.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace orderflow::stack {
namespace {

Result<std::string> read_file(const std::filesystem::path& path, std::size_t limit) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return fail(ErrorCode::validation_error, "cannot read " + path.string() + ": " + ec.message());
  if (size > limit)
    return fail(ErrorCode::validation_error,
                path.string() + " is " + std::to_string(size) + " bytes; the limit is " + std::to_string(limit));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  if (!in && !in.eof()) return fail(ErrorCode::validation_error, "cannot read " + path.string());
  return s.str();
}

Status write_durably(const std::filesystem::path& path, std::string_view data) {
  auto tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::internal_error, "cannot write " + tmp.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail(ErrorCode::internal_error, "cannot write " + tmp.string() + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return fail(ErrorCode::internal_error, "cannot sync " + tmp.string() + ": " + std::strerror(errno));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail(ErrorCode::internal_error, "cannot rename " + tmp.string() + ": " + std::strerror(errno));
  int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

}  // namespace

Result<StackState> load_stack_state(const std::filesystem::path& data_dir) {
  auto path = data_dir / kStackStateFile;
  if (!std::filesystem::exists(path)) return StackState{};
  auto text = read_file(path, 64 << 20);
  if (!text) return std::unexpected(text.error());
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*text, ec);
  if (ec) return fail(ErrorCode::validation_error, path.string() + " is not valid JSON: " + ec.message());
  return stack_state_from_json(v);
}

Status save_stack_state(const std::filesystem::path& data_dir, const StackState& state) {
  return write_durably(data_dir / kStackStateFile, boost::json::serialize(to_json(state)));
}

Deployment deploy_local(engine::Engine& engine, const LocalStackOptions& options) {
  Deployment failed;
  auto previous = load_stack_state(engine.options().data_dir);
  if (!previous) {
    failed.status = std::unexpected(previous.error());
    return failed;
  }
  failed.state = *previous;
  auto text = read_file(options.template_path, kMaxTemplateBytes);
  if (!text) {
    failed.status = std::unexpected(text.error());
    return failed;
  }
  DeployContext ctx;
  ctx.stack_name = options.stack_name;
  ctx.region = engine.options().region;
  ctx.account_id = engine.options().account_id;

  ParameterOverrides overrides = options.overrides;
  if (auto parsed = parse_template(*text)) {
    if (auto* params = parsed->if_contains("Parameters"); params && params->is_object()) {
      for (auto [name, placeholder] : {std::pair{"CodeS3Bucket", "local"}, std::pair{"CodeS3Key", "bootstrap.zip"}}) {
        auto* p = params->as_object().if_contains(name);
        if (p && p->is_object() && !p->as_object().contains("Default") && !overrides.contains(name))
          overrides[name] = placeholder;
      }
    }
  }

  EngineProvider provider(engine, options.provider);
  if (auto s = provider.restore(*previous); !s) {
    failed.status = std::unexpected(Error{s.error().code, "restoring the stack: " + s.error().message});
    return failed;
  }
  Deployment d = deploy(*text, overrides, *previous, provider, ctx);
  if (!d.state.status.empty() || !previous->status.empty()) {
    if (auto s = save_stack_state(engine.options().data_dir, d.state); !s && d.status) d.status = s;
  }
  return d;
}

}  // namespace orderflow::stack
