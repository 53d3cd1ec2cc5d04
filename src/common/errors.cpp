#include "common/errors.h"

#include <array>

namespace orderflow {
namespace {

constexpr ErrorInfo kCatalogue[] = {
#define ERR(id, service, code, json_type, http_status, sender_fault) \
  {ErrorCode::id, Service::service, code, json_type, http_status, sender_fault},
#include "common/errors.def"
#undef ERR
};

}  // namespace

const ErrorInfo& error_info(ErrorCode code) { return kCatalogue[static_cast<std::size_t>(code)]; }

}  // namespace orderflow
