// libFuzzer harness over docker-run's command-line parsing (cpp-demo/cli.hpp): the input is split
// on NUL bytes into arguments and parsed twice: as a whole command line (`docker-run ARGS...`:
// the subcommand, its flags and operands, then run's options when it is run) and as
// `docker-run run ARGS...`. A usage error
// (cli::UsageError) or a value the library refuses (rt::Error) is an expected outcome; any other
// exception, a crash, a sanitizer report or rt::Error with status RT_STATUS_PANIC is a bug.
// Nothing is started: parsing only builds a configuration.
//
// -DFUZZ_STANDALONE gives a main() that replays files (the corpus, without libFuzzer).
#include "../../cpp-demo/cli.hpp"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::vector<std::string> args;
    std::string cur;
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            args.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(static_cast<char>(data[i]));
        }
    }
    if (!cur.empty()) args.push_back(cur);
    // --env-file reads a file: keep the fuzzer away from the host's files (and /dev/zero).
    for (const auto &a : args)
        if (a.rfind("--env-file", 0) == 0) return 0;
    auto parse = [](const auto &body) {
        try {
            body();
        } catch (const cli::UsageError &) {
        } catch (const rt::Error &e) {
            if (e.status() == RT_STATUS_PANIC) {
                std::fprintf(stderr, "panic through the C ABI: %s\n", e.what());
                std::abort();
            }
        }
    };
    parse([&] {
        cli::Subcommand sub;
        std::vector<std::string> run_args;
        if (cli::parse_command(args, sub, run_args) == cli::Command::Run) {
            cli::Options o;
            cli::parse(run_args, o);
        }
    });
    parse([&] {
        cli::Options o;
        cli::parse(args, o);
    });
    return 0;
}

#ifdef FUZZ_STANDALONE
int main(int argc, char **argv) {
    for (int i = 1; i < argc; ++i) {
        std::ifstream in(argv[i], std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
    }
    std::printf("replayed %d inputs\n", argc - 1);
    return 0;
}
#endif
