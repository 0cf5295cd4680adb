// original_main.cpp: main.cpp as the original C++ project ("C++ 实现 docker 容器") writes it,
// compiled unchanged against include/docker.hpp. The differences: the root filesystem comes
// from argv[1] instead of a fixed directory, and the addresses are the test's own.
//
//   echo 'hostname; exit 0' | ./original_main.bin ROOTFS
#include "docker.hpp"
#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " ROOTFS" << std::endl;
        return 2;
    }
    std::cout << "...start container" << std::endl;
    docker::container_config config;
    config.host_name = "shiyanlou";
    config.root_dir  = argv[1];
    // 配置网络参数 (network parameters), as the original; it used 192.168.0.100 on docker0 at
    // 192.168.0.1. The test uses its own bridge and subnet (tests/abi.sh removes it after).
    config.ip          = "10.89.0.100";  // 容器 IP
    config.bridge_name = "drorig0";      // 宿主机网桥
    config.bridge_ip   = "10.89.0.1";    // 宿主机网桥 IP
    docker::container container(config); // 根据 config 构造容器
    container.start();                   // 启动容器
    std::cout << "stop container..." << std::endl;
    return 0;
}
