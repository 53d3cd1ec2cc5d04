// orderflow: the command. main() only wires the subcommands together (STYLE.md item 13).
// Exit codes: 0 success, 1 a failure of the command, 2 bad arguments (CLI11's message on stderr).
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"orderflow: SNS, SQS and DynamoDB on one local port, for the order pipeline"};
  app.require_subcommand(1);
  int exit_code = 0;
  orderflow::cli::register_up(app, exit_code);
  orderflow::cli::register_package(app, exit_code);
  orderflow::cli::register_publish(app, exit_code);
  orderflow::cli::register_orders(app, exit_code);
  orderflow::cli::register_dlq(app, exit_code);
  orderflow::cli::register_logs(app, exit_code);
  orderflow::cli::register_status(app, exit_code);
  orderflow::cli::register_demo(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help (code 0) or the error
    return code == 0 ? 0 : 2;
  }
  return exit_code;
}
