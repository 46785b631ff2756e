#include "commands.hpp"
#include "json_output.hpp"

#include <iostream>

namespace mmmctl {

void run_delete(mmm::Client& client, const Invocation& inv) {
    client.remove(inv.name);
    if (inv.json)
        print_json({{"deleted", inv.name}});
    else
        std::cout << "deleted '" << inv.name << "'\n";
}

}  // namespace mmmctl
