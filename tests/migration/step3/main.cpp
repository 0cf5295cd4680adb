// Step 3 of docs/MIGRATION.md: what the original lacked, through the rt:: API of docker.hpp.
// The container gets memory and pids limits and an address leased on the bridge (no fixed IP:
// a second container on the same bridge gets the next free one), and the program reads the
// limit back and reports how the shell ended.
//
//   echo 'hostname' | ./docker-run ROOTFS BRIDGE SUBNET
#include "docker.hpp"
#include <iostream>

int main(int argc, char **argv) {
    if (argc < 4) {
        std::cerr << "usage: " << argv[0] << " ROOTFS BRIDGE SUBNET" << std::endl;
        return 2;
    }
    try {
        rt::Config shell;
        shell.rootfs(argv[1]).hostname("shiyanlou").name("migration-step3-shell");
        shell.limit("memory", "64m").limit("pids-limit", "64");
        shell.network(rt::NetworkMode::Bridge).bridge(argv[2], argv[3]).argv({"/bin/sh"});
        rt::Container first(shell);
        first.start();
        std::cout << "ip " << first.ip() << std::endl;
        std::cout << "memory " << first.limit("memory") << std::endl;
        std::cout << "netlink " << rt::netlink_backend() << std::endl;

        // A second container on the same bridge while the first runs: another lease.
        rt::Config other;
        other.rootfs(argv[1]).name("migration-step3-other").network(rt::NetworkMode::Bridge);
        other.bridge(argv[2], argv[3]).argv({"/bin/true"});
        rt::Container second(other);
        second.start();
        std::cout << "second ip " << second.ip() << std::endl;
        (void)second.wait(); // only its lease matters here

        rt::ExitStatus status = first.wait();
        std::cout << "exit " << status.code << std::endl;
        return status.code;
    } catch (const rt::Error &e) {
        std::cerr << "error: " << e.what() << std::endl;
        return 125;
    }
}
