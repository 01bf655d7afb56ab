# Convenience targets; the scripts are the entry points (see README.md).
.PHONY: run test unit build format check-format bench clean
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
unit:
	bash scripts/build.sh && ctest --test-dir build -L unit --output-on-failure -j2
build:
	bash scripts/build.sh
format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i
check-format:
	bash scripts/check-format.sh
clean:
	rm -rf build build-fuzz
