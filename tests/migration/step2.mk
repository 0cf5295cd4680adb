# Step 2 of docs/MIGRATION.md: the original docker.hpp is gone too; main.cpp, unchanged,
# includes the installed docker.hpp (C++17), and the container logic runs in the library.
# Static library this time (the shared one works the same way).
CXX = g++
PREFIX = /usr/local
MAIN = main.cpp
LD = -std=c++17 -I$(PREFIX)/include
LIBS = $(PREFIX)/lib/libcontainer_runtime.a -lpthread -ldl -lm -lrt
OUT = docker-run

all:
	make container
container:
	$(CXX) $(LD) -o $(OUT) $(MAIN) $(LIBS)
clean:
	rm -f $(OUT)
