// A downstream program built against the installed mmm package: it must
// compile with only the installed headers and link with only mmm::mmm.
// With no daemon on the given runtime directory, Client must report
// daemon_unavailable: proof that the library really runs.
#include <mmm/mmm.hpp>

#include <iostream>
#include <string>

struct Point {
    int x, y;
};

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: app RUNTIME_DIR_WITHOUT_DAEMON\n";
        return 2;
    }
    if (mmm::type_name<Point>().find("Point") == std::string::npos) {
        std::cerr << "unexpected type name " << mmm::type_name<Point>() << '\n';
        return 1;
    }
    try {
        mmm::Client client(mmm::ClientOptions{.runtime_dir = argv[1]});
        std::cerr << "connected to a daemon that should not exist\n";
        return 1;
    } catch (const mmm::Error& e) {
        if (e.code() != mmm::Errc::daemon_unavailable) {
            std::cerr << "unexpected error: " << e.what() << '\n';
            return 1;
        }
    }
    std::cout << "consumer ok\n";
    return 0;
}
