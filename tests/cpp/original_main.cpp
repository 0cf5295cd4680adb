// original_main.cpp: main.cpp as the original C++ project ("C++ 实现 docker 容器") writes it,
// compiled unchanged against include/docker.hpp. The only difference: the root filesystem
// comes from argv[1] instead of a fixed directory.
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
    // 配置网络参数 (network parameters). Left empty for now: the runtime has no container
    // networking yet, so the container runs without eth0. The original gives the container
    // 192.168.0.100 on the host bridge docker0, whose address 192.168.0.1 is the gateway.
    config.ip          = "";    // 容器 IP
    config.bridge_name = "";    // 宿主机网桥
    config.bridge_ip   = "";    // 宿主机网桥 IP
    docker::container container(config); // 根据 config 构造容器
    container.start();                   // 启动容器
    std::cout << "stop container..." << std::endl;
    return 0;
}
