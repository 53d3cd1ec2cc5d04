// The subcommands of `orderflow`. Each lives in its own file and registers itself on the app
// (STYLE.md item 13): it adds its options and a callback that runs it and stores the process
// exit code in `exit_code`. No globals: option storage belongs to the registered callback.
#pragma once

namespace CLI {
class App;
}

namespace orderflow::cli {

// `orderflow up`: opens the data directory and serves the AWS APIs until SIGINT/SIGTERM.
void register_up(CLI::App& app, int& exit_code);

}  // namespace orderflow::cli
