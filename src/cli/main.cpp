// orderflow: the command. main() only wires the subcommands together (STYLE.md item 13).
#include <cstdio>

int main() {
  std::fprintf(stderr, "orderflow: no subcommands yet\n");
  return 2;
}
