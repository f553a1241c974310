"""Synthetic clinic networks for benchmarks and demonstrations (`ketacare synth`)."""
