// orderflow: the command. main() only wires the subcommands together (STYLE.md item 13).
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
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
