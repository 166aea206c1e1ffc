#include "CLibFuzzer.h"

#include <stddef.h>
#include <stdint.h>

// Linked by -sanitize=fuzzer: libFuzzer's driver for programs with a main of their own.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
// Defined by the fuzz target.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int clibfuzzer_main(int argc, char **argv) {
  return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
