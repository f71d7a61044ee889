# memsig front door: every target drives CMake (CMakeLists.txt holds the real rules).
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

.PHONY: all deps configure test demo bench figures clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: all
	scripts/demo

bench: all
	scripts/bench

figures: all
	$(BUILD)/memsig figure fig1

clean:
	rm -rf $(BUILD)
