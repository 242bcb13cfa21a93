# mot-bench build.
#   make            build/suite (C reference path; CUDA path too when nvcc is on the PATH)
#   make test       unit tests (Check), C path, no GPU needed
#   make test-gpu   every CUDA kernel and whole training steps against the C reference
#   make test-asan  unit tests under AddressSanitizer + UBSan (C path, build/asan)
#   make deps       install the Debian packages the build needs
#   make check-layers  fail when an #include breaks the one-way layer rule
#
# Sources are picked up by wildcard: a new kernels/*.c, impls/*.c, datasets/*.c,
# suite/*.c or suite/*/*.c is built without touching this file; tests/test_*.c each become one
# Check binary; kernels/cuda/*.cu are compiled whenever nvcc exists.

CC      ?= gcc
BUILD   ?= build
SUITE   ?= $(BUILD)/suite
PKGS    := check jansson libpcre2-8 yaml-0.1 zlib ompi-c
CFLAGS  ?= -O2 -g -march=x86-64-v2
CFLAGS  += -std=c11 -Wall -Wextra -Werror -Wno-format-truncation -fopenmp -D_GNU_SOURCE -I. \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := -lopenblas -lcsv $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -fopenmp

NVCC    := $(shell command -v nvcc 2>/dev/null)
CUDA_HOME ?= $(if $(NVCC),$(patsubst %/bin/nvcc,%,$(NVCC)),)

LIB_SRC   := $(wildcard kernels/base/*.c kernels/*.c datasets/*.c impls/*.c)
SUITE_SRC := $(wildcard suite/*.c suite/*/*.c)
TEST_SRC  := $(wildcard tests/test_*.c)
GPU_TEST_SRC := $(wildcard tests/gpu/*.c)
CU_SRC    := $(wildcard kernels/cuda/*.cu)

LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
SUITE_OBJ := $(SUITE_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN  := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

ifneq ($(NVCC),)
  CFLAGS    += -DMOT_HAVE_CUDA -I$(CUDA_HOME)/include
  NVCCFLAGS ?= -O3 -g -lineinfo
  NVCCFLAGS += -std=c++17 -I. -DMOT_HAVE_CUDA --compiler-options -Wall,-Wextra,-Werror \
               -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
               -gencode arch=compute_90,code=compute_90  # PTX: GPUs newer than sm_90 JIT it
  CU_OBJ    := $(CU_SRC:%.cu=$(BUILD)/obj/%.o)
  LDLIBS    += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublasLt -lcublas -lcudart -lnccl -lstdc++
endif

.PHONY: all test run-tests test-asan test-gpu gpu-check deps clean check-layers
all: $(SUITE)

$(BUILD)/libmot.a: $(LIB_OBJ) $(CU_OBJ)
	@mkdir -p $(@D)
	@echo "  AR    $@"
	@ar rcs $@ $^

$(SUITE): $(SUITE_OBJ) $(BUILD)/libmot.a
	@echo "  LD    $@"
	@$(CC) $(LDFLAGS) -o $@ $(SUITE_OBJ) $(BUILD)/libmot.a $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.cu
	@mkdir -p $(@D)
	@echo "  NVCC  $<"
	@$(NVCC) $(NVCCFLAGS) -MMD -MP -c $< -o $@

# Test binaries link the library plus suite/ objects except main (tests may drive commands).
SUITE_LIB_OBJ := $(filter-out $(BUILD)/obj/suite/cli/main.o,$(SUITE_OBJ))
$(BUILD)/tests/%: tests/%.c $(BUILD)/libmot.a $(SUITE_LIB_OBJ) $(wildcard tests/*.h)
	@mkdir -p $(@D)
	@echo "  LD    $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(SUITE_LIB_OBJ) $(BUILD)/libmot.a $(LDLIBS)

# `make test` is the README's test command: it installs what is missing first, then
# builds in a fresh make (so pkg-config sees the new packages) and runs every test.
test:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory run-tests

# TEST_SKIP: test names (test_train ...) built but not run, for time-boxed CI runs.
TEST_SKIP ?=
run-tests: $(SUITE) $(TEST_BIN)
	@MOT_SUITE=$(abspath $(SUITE)) tests/run_tests.sh \
	    $(filter-out $(addprefix $(BUILD)/tests/,$(TEST_SKIP)),$(TEST_BIN))

# Every unit test built with AddressSanitizer + UndefinedBehaviorSanitizer, C path
# only (NVCC=: the CUDA runtime does not run under ASan), in its own build folder.
# Any report fails the test: UBSan halts, LeakSanitizer ignores only Open MPI's own
# allocations (tests/asan/lsan.supp, made matchable by tests/asan/keep_modules.c).
# CFLAGS/LDFLAGS go in through the environment so the Makefile's own are appended;
# sanitized code runs ~3x slower, so Check's per-test timeouts are multiplied.
ASAN_BUILD ?= build/asan
# float-cast-overflow is not part of -fsanitize=undefined in GCC: a float that does
# not fit an int (a capacity from a huge capacity_factor) is caught too.
ASAN_FLAGS := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all
ASAN_KEEP  := $(abspath $(ASAN_BUILD))/keep_modules.o
test-asan:
	@mkdir -p $(ASAN_BUILD) && $(CC) -std=c11 -Wall -Wextra -Werror -O1 -c -o $(ASAN_KEEP) tests/asan/keep_modules.c
	@CFLAGS="-O1 -g -fno-omit-frame-pointer $(ASAN_FLAGS)" \
	 LDFLAGS="$(ASAN_FLAGS) $(ASAN_KEEP) -Wl,--export-dynamic-symbol=dlclose" \
	 ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
	 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	 CK_TIMEOUT_MULTIPLIER=4 \
	 LSAN_OPTIONS=suppressions=$(abspath tests/asan/lsan.supp):print_suppressions=0 \
	 $(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) NVCC= run-tests

# The harness of tests/gpu without its main also runs in CI, against CPU stand-ins.
GPU_HARNESS_SRC := $(filter-out tests/gpu/main.c,$(GPU_TEST_SRC))
$(BUILD)/tests/test_gpu_harness: tests/test_gpu_harness.c $(GPU_HARNESS_SRC) tests/gpu/harness.h \
		$(BUILD)/libmot.a $(SUITE_LIB_OBJ) $(wildcard tests/*.h)
	@mkdir -p $(@D)
	@echo "  LD    $@"
	@$(CC) $(CFLAGS) -o $@ $< $(GPU_HARNESS_SRC) $(SUITE_LIB_OBJ) $(BUILD)/libmot.a $(LDLIBS)

$(BUILD)/test_gpu: $(GPU_TEST_SRC) $(BUILD)/libmot.a $(SUITE_LIB_OBJ)
	@test -n "$(NVCC)" || { echo "make test-gpu: nvcc not found; install the CUDA toolkit" >&2; exit 1; }
	$(CC) $(CFLAGS) -o $@ $(GPU_TEST_SRC) $(SUITE_LIB_OBJ) $(BUILD)/libmot.a $(LDLIBS)

test-gpu: $(SUITE) $(BUILD)/test_gpu
	$(BUILD)/test_gpu

# The one-call GPU check for a device window (docs/gpu-status.md): on a GPU
# machine with the toolkit, builds and runs scripts/gpu-check.sh from this tree.
gpu-check:
	@scripts/gpu-check.sh

# The one-way include rule between kernels/base, kernels, datasets, impls and suite;
# the self-test proves the check still catches a planted wrong-way include.
check-layers:
	@scripts/check-layers.sh
	@scripts/check-layers.sh --self-test

deps:
	@scripts/install-deps.sh

clean:
	rm -rf $(BUILD) $(SUITE)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
