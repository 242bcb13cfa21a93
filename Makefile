# mot-bench build.
#   make            build/suite (C reference path; CUDA path too when nvcc is on the PATH)
#   make test       unit tests (Check), C path, no GPU needed
#   make test-gpu   every CUDA kernel and whole training steps against the C reference
#   make deps       install the Debian packages the build needs
#
# Sources are picked up by wildcard: a new kernels/*.c, impls/*.c, datasets/*.c or
# suite/*.c is built without touching this file; tests/test_*.c each become one
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

LIB_SRC   := $(wildcard kernels/*.c datasets/*.c impls/*.c)
SUITE_SRC := $(wildcard suite/*.c)
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
               -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90
  CU_OBJ    := $(CU_SRC:%.cu=$(BUILD)/obj/%.o)
  LDLIBS    += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublasLt -lcublas -lcudart -lnccl -lstdc++
endif

.PHONY: all test run-tests test-gpu deps clean
all: $(SUITE)

$(BUILD)/libmot.a: $(LIB_OBJ) $(CU_OBJ)
	@mkdir -p $(@D)
	@echo "  AR    $@"
	@ar rcs $@ $^

$(SUITE): $(SUITE_OBJ) $(BUILD)/libmot.a
	@echo "  LD    $@"
	@$(CC) -o $@ $(SUITE_OBJ) $(BUILD)/libmot.a $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.cu
	@mkdir -p $(@D)
	@echo "  NVCC  $<"
	@$(NVCC) $(NVCCFLAGS) -MMD -MP -c $< -o $@

# Test binaries link the library plus suite/ objects except main (tests may drive commands).
SUITE_LIB_OBJ := $(filter-out $(BUILD)/obj/suite/main.o,$(SUITE_OBJ))
$(BUILD)/tests/%: tests/%.c $(BUILD)/libmot.a $(SUITE_LIB_OBJ) $(wildcard tests/*.h)
	@mkdir -p $(@D)
	@echo "  LD    $@"
	@$(CC) $(CFLAGS) -o $@ $< $(SUITE_LIB_OBJ) $(BUILD)/libmot.a $(LDLIBS)

# `make test` is the README's test command: it installs what is missing first, then
# builds in a fresh make (so pkg-config sees the new packages) and runs every test.
test:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory run-tests

run-tests: $(SUITE) $(TEST_BIN)
	@MOT_SUITE=$(abspath $(SUITE)) tests/run_tests.sh $(TEST_BIN)

$(BUILD)/test_gpu: $(GPU_TEST_SRC) $(BUILD)/libmot.a $(SUITE_LIB_OBJ)
	@test -n "$(NVCC)" || { echo "make test-gpu: nvcc not found; install the CUDA toolkit" >&2; exit 1; }
	$(CC) $(CFLAGS) -o $@ $(GPU_TEST_SRC) $(SUITE_LIB_OBJ) $(BUILD)/libmot.a $(LDLIBS)

test-gpu: $(SUITE) $(BUILD)/test_gpu
	$(BUILD)/test_gpu

deps:
	@scripts/install-deps.sh

clean:
	rm -rf $(BUILD) $(SUITE)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
