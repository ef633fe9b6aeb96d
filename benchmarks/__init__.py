"""Performance benchmarks of the publishing pipeline (see benchmarks/RESULTS.md)."""
