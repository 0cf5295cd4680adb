# make container && sudo ./docker-run      build everything, then a shell in a container
#                                           (and ./container-runtime, the OCI runtime)
# make NETLINK=rust container               the same with the Rust netlink backend
# make test                                 every test tier (root tiers need root), both backends
PREFIX    ?= /usr/local
DESTDIR   ?=
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include
BINDIR    ?= $(PREFIX)/bin
DATADIR   ?= $(PREFIX)/share/docker-run
ROOTFS    ?= rootfs
CARGO     ?= cargo
CXX       ?= g++
CC        ?= gcc

# The runtime's netlink backend: c (c-legacy/, the default) or rust (rust-core/src/net/rtnl.rs,
# the cargo feature netlink-rust). The original project's network.h API is C in either build.
NETLINK   ?= c
ifeq ($(NETLINK),c)
FEATURES  :=
else ifeq ($(NETLINK),rust)
FEATURES  := --features netlink-rust
else
$(error NETLINK=$(NETLINK): expected c or rust)
endif
# Where cargo builds (CARGO_TARGET_DIR, as cargo reads it) and the docker-run binary it links.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
DOCKER_RUN ?= docker-run
# The OCI runtime front end (runc's command line), built by cargo beside the library.
OCI_RUNTIME ?= container-runtime
# The Rust backend built beside the default one (its own target dir and binary), so that the
# tests and the bench can run both: `make container-rust` -> ./docker-run-rust.
RUST_BUILD := NETLINK=rust CARGO_TARGET_DIR=target-rust DOCKER_RUN=docker-run-rust \
	OCI_RUNTIME=container-runtime-rust

VERSION   := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
SOMAJOR   := 0
LIBNAME   := libcontainer_runtime
RELEASE   := $(TARGET_DIR)/release
STATICLIB := $(RELEASE)/$(LIBNAME).a
SHAREDLIB := $(RELEASE)/$(LIBNAME).so
LINKLIBS  := -lpthread -ldl -lm -lrt
CXXFLAGS  ?= -O2 -g
WARN      := -Wall -Wextra -Werror -pedantic

.PHONY: all container container-rust lib rootfs header bindings test deps bench fuzz stress escape install uninstall clean
FUZZ_SECONDS ?= 60
all: container

# Cargo decides what to rebuild; always ask it. docker-run links libstdc++ statically: resolving
# its symbols at every start was 81% of docker-run's instructions and most of its memory.
lib:
	CARGO_TARGET_DIR=$(TARGET_DIR) $(CARGO) build --release -p container-runtime $(FEATURES)

container: lib rootfs
	$(CXX) -std=c++17 $(WARN) $(CXXFLAGS) -Iinclude -DDOCKER_RUN_DATADIR='"$(DATADIR)"' \
		-o $(DOCKER_RUN) cpp-demo/main.cpp $(STATICLIB) $(LINKLIBS) -static-libstdc++ -static-libgcc
	cp -f $(RELEASE)/container-runtime $(OCI_RUNTIME)

container-rust:
	$(MAKE) container $(RUST_BUILD)

rootfs:
	cpp-demo/mkrootfs.sh $(ROOTFS)

header:
	$(CARGO) run -q -p codegen -- header

bindings:
	$(CARGO) run -q -p codegen -- bindings

# The test command installs what the tests need first (tests/deps.sh), then builds: a rootfs
# built before a package appeared is brought up to date by the rebuild.
test:
	tests/deps.sh
	$(MAKE) container
	tests/run.sh

deps:
	tests/deps.sh

bench: container container-rust
	bench/run.sh

# libFuzzer over the configuration API for FUZZ_SECONDS (the test command only replays the corpus).
fuzz: lib
	tests/fuzz/run.sh $(FUZZ_SECONDS)

stress: container
	tests/stress.sh

escape: container
	tests/escape.sh
	tests/escape-process.sh

install: lib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) $(DESTDIR)$(BINDIR)
	install -m 0644 $(STATICLIB) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(SHAREDLIB) $(DESTDIR)$(LIBDIR)/$(LIBNAME).so.$(VERSION)
	ln -sf $(LIBNAME).so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIBNAME).so.$(SOMAJOR)
	ln -sf $(LIBNAME).so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/$(LIBNAME).so
	install -m 0644 include/container_runtime.h include/network.h include/docker.hpp $(DESTDIR)$(INCDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|; s|@VERSION@|$(VERSION)|; s|@LIBS@|$(LINKLIBS)|' \
		cpp-demo/container-runtime.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/container-runtime.pc
	if [ -x $(DOCKER_RUN) ]; then install -m 0755 $(DOCKER_RUN) $(DESTDIR)$(BINDIR)/docker-run; fi
	install -m 0755 $(RELEASE)/container-runtime $(DESTDIR)$(BINDIR)/container-runtime
	if [ -d $(ROOTFS)/bin ]; then install -d $(DESTDIR)$(DATADIR) && cp -a $(ROOTFS) $(DESTDIR)$(DATADIR)/; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/$(LIBNAME).a $(DESTDIR)$(LIBDIR)/$(LIBNAME).so* \
		$(DESTDIR)$(LIBDIR)/pkgconfig/container-runtime.pc \
		$(DESTDIR)$(INCDIR)/container_runtime.h $(DESTDIR)$(INCDIR)/network.h \
		$(DESTDIR)$(INCDIR)/docker.hpp \
		$(DESTDIR)$(BINDIR)/docker-run $(DESTDIR)$(BINDIR)/container-runtime
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	$(CARGO) clean
	rm -rf target-rust
	rm -f docker-run docker-run-rust container-runtime container-runtime-rust tests/c/*.bin tests/cpp/*.bin
