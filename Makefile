# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# Entry points: `make demo` (set-up, build, run the main job on real input) and `make check`
# (set-up, build, the whole test suite through ctest).
BUILD ?= build
TYPE ?= Release
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all setup configure build demo check install asan fuzz format format-check bench clean
all: build

setup:
	@scripts/setup

$(BUILD)/build.ninja:
	@scripts/setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(TYPE) $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@scripts/demo $(BUILD)

check: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# Installs the library, headers, CMake package, pkg-config file, command and man page.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

asan:
	$(MAKE) BUILD=build-asan TYPE=Debug CMAKE_FLAGS="-DTIERJIT_SANITIZE=ON -DTIERJIT_EXAMPLES=OFF -DTIERJIT_STATIC_LLVM=OFF" build
	ctest --test-dir build-asan --output-on-failure -j $(JOBS) -L fast

fuzz:
	@scripts/setup
	cmake --preset fuzz
	cmake --build build-fuzz -j $(JOBS) --target fuzz_llbc fuzz_ir fuzz_bytecode fuzz_stablehlo fuzz_sandbox fuzz_remote
	ctest --test-dir build-fuzz --output-on-failure -L fuzz

SOURCES = $(shell git ls-files '*.cpp' '*.hpp' '*.h' | grep -v '^examples/')
format:
	clang-format -i $(SOURCES)

format-check:
	@scripts/setup
	clang-format --dry-run --Werror $(SOURCES)

bench: build
	@bench/run $(BUILD)

clean:
	rm -rf $(BUILD) build-asan build-fuzz
