"""Synthetic populations shaped like the national figures (for demos, tests and benchmarks)."""

from veil.synth.population import SynthOptions, generate_rows

__all__ = ["SynthOptions", "generate_rows"]
