// The C++ counterpart of the Go example of teh-cmc/mmm: a chunk of three
// Coordinates, written, read back, reached through a raw pointer, then deleted.
//
// Needs a running mmmd; the runtime directory is $MMM_RUNTIME_DIR, else
// $XDG_RUNTIME_DIR/mmm, else /tmp/mmm-<uid>.
//
// Usage: mmm_example_simple [NAME]      (NAME defaults to "coords")
// Prints: 3, {3 9}, {17 2}, {42 42}, {17 2}, {42 42}, then "deleted" (one per line).
#include <mmm/mmm.hpp>

#include <cstdio>
#include <exception>
#include <string>

struct Coordinate {
    int x, y;
};

namespace {
void print(const Coordinate& c) {
    std::printf("{%d %d}\n", c.x, c.y);
}

Coordinate written(mmm::MemChunk<Coordinate>& mc, std::size_t i, Coordinate c) {
    mc.write(i, c);
    return mc.read(i);
}
}  // namespace

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "coords";
    try {
        mmm::Client client;  // connects to mmmd

        // create a new memory chunk that contains 3 Coordinate structures
        mmm::MemChunk<Coordinate> mc = client.create<Coordinate>(name, 3);

        // print 3
        std::printf("%zu\n", mc.size());

        // write {3,9} at index 0, {17,2} at index 1, {42,42} at index 2, printing each
        print(written(mc, 0, {3, 9}));
        print(written(mc, 1, {17, 2}));
        print(written(mc, 2, {42, 42}));

        // print {17,2}: a checked, element-consistent read
        print(mc.read(1));
        // print {42,42}: raw access through a pointer into the shared memory
        const Coordinate* p = mc.pointer(2);
        print(*p);

        // free the memory chunk: the name is gone for new opens at once, and
        // this mapping stays valid until mc is destroyed
        mc.remove();
        std::printf("%s\n", mc.deleted() ? "deleted" : "NOT deleted");
        return mc.deleted() ? 0 : 1;
    } catch (const mmm::Error& e) {
        std::fprintf(stderr, "mmm_example_simple: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm_example_simple: unexpected error: %s\n", e.what());
        return 1;
    }
}
