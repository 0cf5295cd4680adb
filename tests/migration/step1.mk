# Step 1 of docs/MIGRATION.md: network.c and nl.c (and the copied network.h and nl.h) are
# gone; libcontainer_runtime provides the same functions and its installed network.h declares
# them. docker.hpp and main.cpp are unchanged. Shared library, found through an rpath.
CXX = g++
PREFIX = /usr/local
MAIN = main.cpp
LD = -std=c++11 -I$(PREFIX)/include
LIBS = -L$(PREFIX)/lib -Wl,-rpath,$(PREFIX)/lib -lcontainer_runtime
OUT = docker-run

all:
	make container
container:
	$(CXX) $(LD) -o $(OUT) $(MAIN) $(LIBS)
clean:
	rm -f $(OUT)
