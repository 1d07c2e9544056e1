"""Build the optional compiled kernels and tracing hot path; without a C compiler serialscale
runs in pure Python."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "serialscale._kernels",
            sources=[
                f"serialscale/csrc/{name}.c"
                for name in (
                    "module",
                    "common",
                    "loading",
                    "graph",
                    "metrics",
                    "schedule",
                    "drag",
                    "render",
                )
            ],
            depends=["serialscale/csrc/kernels.h", "serialscale/csrc/needs.h"],
            optional=True,  # a failed build falls back to the pure-Python passes
            # No fused multiply-adds: the kernels must round exactly like the Python passes.
            extra_compile_args=["-O2", "-ffp-contract=off"],
        ),
        Extension(
            "serialscale.trace._tape",
            sources=["serialscale/csrc/tape.c"],
            depends=["serialscale/csrc/needs.h"],
            optional=True,  # without it, tracing runs the pure-Python operators
            extra_compile_args=["-O2"],
        ),
    ]
)
