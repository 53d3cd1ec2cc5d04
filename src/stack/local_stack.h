// The local stack of `orderflow up`: deploys a template into the engine and keeps the stack's
// state in the data directory (stack.json), so that the next `up` updates what exists instead
// of starting again: new resources are created, changed ones updated, removed ones deleted.
//
// Order on start: read stack.json (if any) -> re-create the in-memory resources it lists
// (functions, event source mappings; EngineProvider::restore) -> deploy the template over it
// -> write stack.json atomically (temporary file, fsync, rename, fsync of the directory) even
// when the deployment failed part way, since it then records what exists.
//
// Parameters: the template's defaults, overridden by `overrides`. The code location parameters
// of deploy/template.yaml (CodeS3Bucket, CodeS3Key) have no default on AWS; locally the
// function runs the locally built bootstrap, so when the template declares them without a
// default and the caller gives none, they are set to placeholders ("local", "bootstrap.zip").
#pragma once

#include <filesystem>
#include <string>

#include "common/result.h"
#include "engine/engine.h"
#include "stack/engine_provider.h"
#include "stack/template.h"

namespace orderflow::stack {

struct LocalStackOptions {
  std::filesystem::path template_path;
  ParameterOverrides overrides;
  std::string stack_name = "orderflow";
  EngineProviderOptions provider;
};

inline constexpr std::string_view kStackStateFile = "stack.json";

// Deploys; the returned Deployment's status says whether it completed. Errors reading the
// template file or the state file are returned as a failed status with the state unchanged.
Deployment deploy_local(engine::Engine& engine, const LocalStackOptions& options);

// The stored state of the data directory's stack (empty when there is none).
Result<StackState> load_stack_state(const std::filesystem::path& data_dir);
Status save_stack_state(const std::filesystem::path& data_dir, const StackState& state);

}  // namespace orderflow::stack
