// share: a client of the packaged mmmd (scripts/test.sh, stage `package`),
// built from outside the source tree against the installed libmmm-dev. It
// uses the mmmd of $MMM_RUNTIME_DIR (/run/mmm for the system-wide one).
//
//   share create NAME VALUE      creates NAME (uint64 x 4096, mode 0660) holding VALUE
//   share update NAME OLD NEW    opens NAME read-write, checks OLD, writes NEW
//   share expect NAME VALUE      opens NAME read-only, checks VALUE
//   share remove NAME            deletes NAME
//   share connect                connects and lists
//
// Exit codes: 0 ok, 1 a value differs, 2 usage, 10 + mmm::Errc on an mmm::Error.
#include <mmm/mmm.hpp>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

constexpr std::size_t kCount = 4096;

bool holds(const mmm::MemChunk<const std::uint64_t>& chunk, std::uint64_t value) {
    return chunk.size() == kCount && chunk.read(0) == value && chunk.read(kCount - 1) == value;
}

int run(int argc, char** argv) {
    const std::string command = argc > 1 ? argv[1] : "";
    mmm::Client client;
    if (command == "create" && argc == 4) {
        const std::uint64_t value = std::stoull(argv[3]);
        auto chunk =
            client.create<std::uint64_t>(argv[2], kCount, {.mode = mmm::mode::group_read_write});
        chunk.write(0, value);
        chunk.write(kCount - 1, value);
        std::cout << "created " << argv[2] << '\n';
        return 0;
    }
    if (command == "update" && argc == 5) {
        auto chunk = client.open<std::uint64_t>(argv[2]);
        const std::uint64_t old_value = std::stoull(argv[3]);
        if (chunk.read(0) != old_value || chunk.read(kCount - 1) != old_value) {
            std::cerr << "share: " << argv[2] << " does not hold " << old_value << '\n';
            return 1;
        }
        const std::uint64_t new_value = std::stoull(argv[4]);
        chunk.write(0, new_value);
        chunk.write(kCount - 1, new_value);
        std::cout << "updated " << argv[2] << '\n';
        return 0;
    }
    if (command == "expect" && argc == 4) {
        auto chunk = client.open<const std::uint64_t>(argv[2]);
        if (!holds(chunk, std::stoull(argv[3]))) {
            std::cerr << "share: " << argv[2] << " does not hold " << argv[3] << '\n';
            return 1;
        }
        std::cout << "holds " << argv[3] << '\n';
        return 0;
    }
    if (command == "remove" && argc == 3) {
        client.remove(argv[2]);
        std::cout << "removed " << argv[2] << '\n';
        return 0;
    }
    if (command == "connect" && argc == 2) {
        std::cout << client.list().size() << " chunks\n";
        return 0;
    }
    std::cerr << "usage: share create|update|expect|remove|connect ...\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const mmm::Error& e) {
        std::cerr << "share: " << mmm::to_string(e.code()) << ": " << e.what() << '\n';
        return 10 + static_cast<int>(e.code());
    }
}
