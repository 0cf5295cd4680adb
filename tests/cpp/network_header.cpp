// network_header.cpp: include/network.h from C++, after the original project's own includes,
// linked against the library: the link fails if the header's extern "C" guards are missing
// (the names would be C++-mangled). The root part lives in tests/c/network_test.c.
#include <arpa/inet.h>
#include <net/if.h>
#include "network.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

int main() {
    int passed = 0, failed = 0;
    auto check = [&](bool ok, const char *what) {
        if (ok) {
            passed++;
        } else {
            failed++;
            std::fprintf(stderr, "FAIL %s\n", what);
        }
    };
    char mac[18];
    new_hwaddr(mac);
    struct sockaddr sa {};
    check(lxc_convert_mac(mac, &sa) == 0, "lxc_convert_mac(new_hwaddr())");
    check(std::strncmp(mac, "00:16:3e:", 9) == 0, "new_hwaddr() is in 00:16:3e");
    check(lxc_netdev_up(nullptr) == -EINVAL, "lxc_netdev_up(nullptr) == -EINVAL");
    check(lxc_veth_create("0123456789abcdef", "x") == -EINVAL, "a 16-byte name is -EINVAL");
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
