#include "commands.hpp"
#include "json_output.hpp"

#include <mmm/detail/text.hpp>

#include <iostream>

namespace mmmctl {

void run_delete(mmm::Client& client, const Invocation& inv) {
    client.remove(inv.name);
    if (inv.json)
        print_json({{"deleted", inv.name}});
    else
        std::cout << "deleted '" << mmm::detail::printable(inv.name) << "'\n";
}

void run_resize(mmm::Client& client, const Invocation& inv) {
    const mmm::ChunkInfo info = client.resize(inv.name, inv.new_count);
    if (inv.json)
        print_json(chunk_json(info));
    else
        std::cout << "resized '" << mmm::detail::printable(info.name) << "' to " << info.count
                  << " elements (at most " << info.max_count << ")\n";
}

}  // namespace mmmctl
