// docker.hpp: the original project's container logic ("C++ 实现 docker 容器"), reconstructed
// from the tutorial's description for the migration test (docs/MIGRATION.md): clone() with the
// UTS, mount, PID and network namespaces, chdir + chroot, the proc and sys mounts, execv of
// /bin/bash, and the network through LXC's network.h functions: a veth pair from
// lxc_mkifname() names, the host end on the bridge and up, the other end moved into the child
// as eth0, which the child brings up with an address, a gateway and a MAC of its own.
//
// Two changes from the original, both needed to run it safely on any host:
//   - the child waits on a pipe until eth0 has arrived (the original raced the move, which
//     takes the kernel 16-32 ms, and usually configured an eth0 that was not there yet);
//   - the child makes its mounts private first (on a host whose / is a shared mount, as with
//     systemd, the proc and sys mounts would otherwise appear in the host's namespace too).
#include <sys/wait.h>   // waitpid
#include <sys/mount.h>  // mount
#include <fcntl.h>      // open
#include <unistd.h>     // execv, sethostname, chroot, chdir
#include <sched.h>      // clone
#include <signal.h>     // SIGCHLD

#include <cstdlib>
#include <cstring>
#include <string>

#include <net/if.h>     // if_nametoindex
#include <arpa/inet.h>  // inet_pton
#include "network.h"

#define STACK_SIZE (512 * 512) // 子进程栈空间大小

namespace docker {
    typedef int proc_statu;
    const proc_statu proc_err  = -1;
    const proc_statu proc_exit = 0;
    const proc_statu proc_wait = 1;

    // docker 容器启动配置
    typedef struct container_config {
        std::string host_name;   // 主机名
        std::string root_dir;    // 容器根目录
        std::string ip;          // 容器 IP
        std::string bridge_name; // 网桥名
        std::string bridge_ip;   // 网桥 IP
    } container_config;

    class container {
    private:
        typedef int process_pid;
        char child_stack[STACK_SIZE];
        container_config config;
        char *veth1;
        char *veth2;
        int ready[2]; // not in the original: the child waits for eth0

        void start_bash() {
            std::string bash = access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
            char *c_bash = new char[bash.length() + 1];
            strcpy(c_bash, bash.c_str());
            char *const child_args[] = {c_bash, NULL};
            execv(child_args[0], child_args);
            delete[] c_bash;
        }
        void set_hostname() {
            sethostname(this->config.host_name.c_str(), this->config.host_name.length());
        }
        void set_rootdir() {
            mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr); // not in the original
            chdir(this->config.root_dir.c_str());
            chroot(".");
        }
        void set_procsys() {
            mount("none", "/proc", "proc", 0, nullptr);
            mount("none", "/sys", "sysfs", 0, nullptr);
        }
        void set_network() {
            char wait_byte;
            close(ready[1]);
            read(ready[0], &wait_byte, 1); // not in the original: EOF once eth0 is here

            int ifindex = if_nametoindex("eth0");
            struct in_addr ipv4;
            struct in_addr bcast;
            struct in_addr gateway;

            // 设置 IP 地址 (the address, its /24 broadcast and the gateway)
            inet_pton(AF_INET, this->config.ip.c_str(), &ipv4);
            std::string brd = this->config.ip.substr(0, this->config.ip.rfind('.')) + ".255";
            inet_pton(AF_INET, brd.c_str(), &bcast);
            inet_pton(AF_INET, this->config.bridge_ip.c_str(), &gateway);

            // 设置 MAC 地址 before the link goes up
            char mac[18];
            new_hwaddr(mac);
            setup_hw_addr(mac, "eth0");

            lxc_ipv4_addr_add(ifindex, &ipv4, &bcast, 24);
            lxc_netdev_up("lo");
            lxc_netdev_up("eth0");
            lxc_ipv4_gateway_add(ifindex, &gateway);
        }

    public:
        container(container_config &config) {
            this->config = config;
            veth1 = veth2 = nullptr;
        }
        ~container() {
            // The pair died with the child's network namespace: these only clean up after a
            // failure, and say -ENODEV otherwise (ignored, as in the original).
            lxc_netdev_delete_by_name(veth1);
            lxc_netdev_delete_by_name(veth2);
            free(veth1);
            free(veth2);
        }
        void start() {
            char veth1buf[IFNAMSIZ] = "drmvXXXXXX";
            char veth2buf[IFNAMSIZ] = "drmvXXXXXX";
            // 创建一对网络设备, 一个用于加载到宿主机, 另一个用于转移到子进程容器中
            veth1 = lxc_mkifname(veth1buf);
            veth2 = lxc_mkifname(veth2buf);
            lxc_veth_create(veth1, veth2);
            // 设置 veth1 的 MAC 地址
            setup_private_host_hw_addr(veth1);
            // 将 veth1 添加到网桥中
            lxc_bridge_attach(config.bridge_name.c_str(), veth1);
            // 激活 veth1
            lxc_netdev_up(veth1);

            pipe(ready);
            auto setup = [](void *args) -> int {
                auto _this = reinterpret_cast<container *>(args);
                _this->set_hostname();
                _this->set_rootdir();
                _this->set_procsys();
                _this->set_network();
                _this->start_bash();
                return proc_wait;
            };

            process_pid child_pid = clone(setup, child_stack + STACK_SIZE, // 移动到栈底
                                          CLONE_NEWUTS | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | SIGCHLD,
                                          this);
            // 将 veth2 转移到容器内部, 并命名为 eth0
            lxc_netdev_move_by_name(veth2, child_pid, "eth0");
            close(ready[0]);
            close(ready[1]); // the child goes on
            waitpid(child_pid, nullptr, 0); // 等待子进程的退出
        }
    };
}
