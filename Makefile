# A thin wrapper over CMake for people: make, make test, make demo, make fuzz.
# Builds go to build/ (optimised) and build-asan/ (AddressSanitizer +
# UndefinedBehaviorSanitizer, for the tests).

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
DEMO_DIR   ?= $(BUILD)/demo

.PHONY: all test test-release test-asan demo fuzz deps clean

all:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

test: test-release test-asan

test-release:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DNOISETTE_TESTS=ON
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j $(JOBS)

test-asan:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DNOISETTE_SANITIZE=ON \
	      -DNOISETTE_TESTS=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure --no-tests=error -j $(JOBS)

# The main job on the embedded default: noisy Fashion-MNIST labels, audited.
demo: all
	mkdir -p $(DEMO_DIR)
	$(BUILD)/noisette labels fashion-mnist --seed 42 --force -o $(DEMO_DIR)/noisy_fashion_mnist.csv
	$(BUILD)/noisette audit $(DEMO_DIR)/noisy_fashion_mnist.csv

# Coverage-guided fuzzing of the label-CSV parser with libFuzzer (clang).
fuzz:
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	      -DNOISETTE_FUZZ=ON -DNOISETTE_TESTS=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_label_csv
	mkdir -p $(BUILD_FUZZ)/corpus
	$(BUILD_FUZZ)/fuzz_label_csv -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	      $(BUILD_FUZZ)/corpus tests/fuzz/corpus

deps:
	scripts/install-deps.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
