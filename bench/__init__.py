"""Benchmarks: ``make bench`` (``python -m bench``) runs them all, prints one table and writes
bench/RESULTS.md. Each module measures one claim and returns rows for that table; the emulator's
own benchmark (``python -m bench.bench_emulator``) also runs standalone."""
