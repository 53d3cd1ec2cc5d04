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
// `orderflow package`: writes the function's deployment zip for provided.al2023 (cli/package.h).
void register_package(CLI::App& app, int& exit_code);

// The client subcommands: they reach a running stack only over its AWS APIs
// (cli/stack_client.h), locally or on AWS. Errors are one line on stderr and exit code 1.
// `orderflow publish`: orders to the topic (cli/publish.h).
void register_publish(CLI::App& app, int& exit_code);
// `orderflow orders get|list`: orders in the table (cli/orders.h).
void register_orders(CLI::App& app, int& exit_code);
// `orderflow dlq list|redrive`: the dead-letter queue (cli/dlq.h).
void register_dlq(CLI::App& app, int& exit_code);
// `orderflow logs`: the function's log group (cli/logs.h).
void register_logs(CLI::App& app, int& exit_code);
// `orderflow status`: resources, depths, function workers.
void register_status(CLI::App& app, int& exit_code);

// `orderflow demo`: the pipeline end to end on a fresh in-process stack, with a summary
// (cli/demo.h). Exit code 0 when everything came out as expected, 1 otherwise.
void register_demo(CLI::App& app, int& exit_code);

}  // namespace orderflow::cli
