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

# Both test runs share one fake Imagenette tree (tests/cli/test_fake_tree.sh);
# NOISETTE_FAKE_TREE_LIMIT=0 makes it the whole published CSV.
export NOISETTE_FAKE_TREE_DIR ?= $(CURDIR)/$(BUILD)

test-release:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DNOISETTE_TESTS=ON
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure --no-tests=error -j $(JOBS)

test-asan:
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DNOISETTE_SANITIZE=ON \
	      -DNOISETTE_TESTS=ON
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ctest --output-on-failure --no-tests=error -j $(JOBS)

# The main job on the embedded default: Fashion-MNIST with 25% noisy labels
# made on the fly, a short training run that prints the reference's table.
demo: all
	$(BUILD)/noisette train fashion-mnist --pct-noise 25 --arch xresnet18 --width-div 2 \
	      --limit 12000 --epochs 3 --threads 2 --out $(DEMO_DIR)

# Coverage-guided fuzzing with libFuzzer (clang): FUZZ_TARGET is
# fuzz_label_csv (the label-CSV parser), fuzz_image_decode (JPEG/PNG) or
# fuzz_probs_csv (the probabilities CSV of noisette mislabeled).
FUZZ_TARGET ?= fuzz_label_csv
FUZZ_CORPUS = $(if $(filter fuzz_image_decode,$(FUZZ_TARGET)),tests/fuzz/image_corpus,$(if \
    $(filter fuzz_probs_csv,$(FUZZ_TARGET)),tests/fuzz/probs_corpus,tests/fuzz/corpus))
fuzz:
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	      -DNOISETTE_FUZZ=ON -DNOISETTE_TESTS=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target $(FUZZ_TARGET)
	mkdir -p $(BUILD_FUZZ)/corpus-$(FUZZ_TARGET)
	$(BUILD_FUZZ)/$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	      -rss_limit_mb=4096 $(BUILD_FUZZ)/corpus-$(FUZZ_TARGET) $(FUZZ_CORPUS)

deps:
	scripts/install-deps.sh

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
