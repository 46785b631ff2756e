// A chunk that describes its own fields: a struct described with
// BOOST_DESCRIBE_STRUCT (a nested struct, an array member, an enum), pinned to
// a stable name with mmm::type_name_v, so that mmmctl, Python and any other
// reader see fields instead of bytes, and a process that opens it with
// another layout is told which field differs.
//
// Needs a running mmmd (see simple.cpp). Usage:
//   mmm_example_particles [NAME] [--keep]
// Prints the schema, two particles read back, and the type_mismatch another
// layout gets; removes the chunk unless --keep (then look at it with
// `mmmctl info NAME` and `mmmctl dump NAME`).
#include <mmm/mmm.hpp>

#include <boost/describe.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

namespace sim {

enum class Kind : std::uint8_t { gas, dust };

struct Vec3 {
    float x, y, z;
};
BOOST_DESCRIBE_STRUCT(Vec3, (), (x, y, z))

struct Particle {
    Vec3 position;
    Vec3 velocity;
    float mass;
    Kind kind;
    std::array<std::int32_t, 4> neighbours;
};
BOOST_DESCRIBE_STRUCT(Particle, (), (position, velocity, mass, kind, neighbours))

// What an older build of a reader thought a Particle was: mass was a double.
struct OldParticle {
    Vec3 position;
    Vec3 velocity;
    double mass;
    std::array<std::int32_t, 4> neighbours;
};
BOOST_DESCRIBE_STRUCT(OldParticle, (), (position, velocity, mass, neighbours))

}  // namespace sim

// Both are "sim::Particle" to mmm: only their fields tell them apart.
template <>
inline constexpr std::string_view mmm::type_name_v<sim::Particle> = "sim::Particle";
template <>
inline constexpr std::string_view mmm::type_name_v<sim::OldParticle> = "sim::Particle";

int main(int argc, char** argv) {
    std::string name = "particles";
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--keep")
            keep = true;
        else
            name = arg;
    }
    try {
        mmm::Client client;
        auto particles = client.create<sim::Particle>(name, 2);
        std::printf("%s\n", particles.schema().to_string().c_str());
        particles.write(0, {{1, 2, 3}, {0.5f, 0, 0}, 1.5f, sim::Kind::gas, {1, -1, -1, -1}});
        particles.write(1, {{4, 5, 6}, {0, 0.25f, 0}, 2.0f, sim::Kind::dust, {0, -1, -1, -1}});
        for (std::size_t i = 0; i < particles.size(); ++i) {
            const sim::Particle p = particles.read(i);
            std::printf("[%zu] position {%g, %g, %g} mass %g neighbour %d\n", i, p.position.x,
                        p.position.y, p.position.z, p.mass, p.neighbours[0]);
        }
        try {
            (void)client.open<sim::OldParticle>(name);
            std::printf("the old layout was accepted: that is a bug\n");
            return 1;
        } catch (const mmm::Error& e) {
            if (e.code() != mmm::Errc::type_mismatch) throw;
            std::printf("old layout: %s\n", e.message().c_str());
        }
        if (!keep) particles.remove();
        return 0;
    } catch (const mmm::Error& e) {
        std::fprintf(stderr, "mmm_example_particles: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmm_example_particles: unexpected error: %s\n", e.what());
        return 1;
    }
}
