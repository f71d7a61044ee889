# memsig front door: every target drives CMake (CMakeLists.txt holds the real rules).
MAKEFLAGS += --no-print-directory
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# Convenience: use a corpora mirror beside the checkout when the user has not named one.
ifeq ($(origin MEMSIG_CORPORA), undefined)
ifneq ($(wildcard ../shared/corpora),)
export MEMSIG_CORPORA := $(abspath ../shared/corpora)
endif
else
export MEMSIG_CORPORA := $(abspath $(MEMSIG_CORPORA))
endif

.PHONY: all deps configure binary test demo bench figures clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

binary: configure
	cmake --build $(BUILD) -j $(JOBS) --target memsig

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: binary
	scripts/demo

bench: binary
	scripts/bench

figures: binary
	$(BUILD)/memsig figure fig1

clean:
	rm -rf $(BUILD)
