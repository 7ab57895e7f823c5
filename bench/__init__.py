"""minigrad's benchmarks: each times minigrad beside its peer in the same run and prints ratios."""
