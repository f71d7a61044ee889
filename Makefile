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

.PHONY: all deps configure binary test test-sanitize fuzz demo bench figures clean

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

# The test suite built with AddressSanitizer + UndefinedBehaviorSanitizer.
test-sanitize: deps
	@test -f build-sanitize/CMakeCache.txt || cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMSIG_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build build-sanitize -j $(JOBS)
	cd build-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

# Every reader of untrusted files under libFuzzer (clang) for FUZZ_RUNS inputs each.
FUZZ_RUNS ?= 20000
fuzz: deps
	@scripts/install-deps --fuzz
	@test -f build-fuzz/CMakeCache.txt || cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DMEMSIG_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build build-fuzz -j $(JOBS) --target fuzz_model_file fuzz_checkpoint fuzz_signature_json fuzz_arpa fuzz_speech_data fuzz_audio
	fuzz/run build-fuzz $(FUZZ_RUNS)

demo: binary
	scripts/demo

bench: binary
	scripts/bench

figures: binary
	$(BUILD)/memsig figure all --preset full

clean:
	rm -rf $(BUILD)
