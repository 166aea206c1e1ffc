#ifndef C_LIBFUZZER_H
#define C_LIBFUZZER_H

/// Runs libFuzzer, with the command line `argc`/`argv`, on the target's `LLVMFuzzerTestOneInput`
/// (which each fuzz target defines with `@_cdecl`), as libFuzzer's own `main` would: SwiftPM gives
/// every executable an entry point of its own, so the targets start libFuzzer from theirs.
/// Returns libFuzzer's exit code.
int clibfuzzer_main(int argc, char **argv);

#endif
