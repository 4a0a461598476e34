// ctxext command line: parses flags with CLI11 and hands over to one command. Every ctxext::Error
// becomes a one-line message on stderr and exit code 2.
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "ctxext/build_info.h"

int main(int argc, char** argv) {
  CLI::App app{"ctxext " CTXEXT_VERSION
               ": extend LLaMA context windows with RoPE methods, fine-tune from YAML, evaluate, export"};
  app.require_subcommand(1);
  app.set_version_flag("--version", CTXEXT_VERSION);
  ctxext::cli::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "error: " << e.what() << " (see --help)" << std::endl;
    return 2;
  } catch (const ctxext::Error& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "error: " << e.what_without_backtrace() << std::endl;
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 2;
  }
  return 0;
}
