// main.cpp: the original project's main.cpp, as in its tutorial, with the test's own values:
// the root filesystem comes from argv[1] instead of a fixed directory, and the bridge and its
// subnet are the migration test's (it creates drmig0 at 10.86.0.1/24 and removes it after).
// It is the same file in every step of docs/MIGRATION.md.
#include "docker.hpp"
#include <iostream>

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " ROOTFS" << std::endl;
        return 2;
    }
    std::cout << "...start container" << std::endl;
    docker::container_config config;

    // 配置容器
    config.host_name = "shiyanlou";
    config.root_dir  = argv[1];

    // 配置网络参数
    config.ip          = "10.86.0.100"; // 容器 IP
    config.bridge_name = "drmig0";      // 宿主机网桥
    config.bridge_ip   = "10.86.0.1";   // 宿主机网桥 IP

    docker::container container(config); // 根据 config 构造容器
    container.start();                   // 启动容器
    std::cout << "stop container..." << std::endl;
    return 0;
}
