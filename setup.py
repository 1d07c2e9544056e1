"""Build the optional compiled kernels and tracing hot path; without a C compiler serialscale
runs in pure Python."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "serialscale._kernels",
            sources=["serialscale/_kernels.c"],
            optional=True,  # a failed build falls back to the pure-Python passes
            # No fused multiply-adds: the kernels must round exactly like the Python passes.
            extra_compile_args=["-O2", "-ffp-contract=off"],
        ),
        Extension(
            "serialscale.trace._tape",
            sources=["serialscale/trace/_tape.c"],
            optional=True,  # without it, tracing runs the pure-Python operators
            extra_compile_args=["-O2"],
        ),
    ]
)
