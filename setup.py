"""Build the optional compiled kernels and tracing hot path; without a C compiler serialscale
runs in pure Python."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "serialscale.accel._kernels",
            sources=[
                f"src/serialscale/accel/csrc/{name}.c"
                for name in (
                    "module",
                    "common",
                    "loading",
                    "graph",
                    "metrics",
                    "schedule",
                    "drag",
                    "render",
                    "memory",
                )
            ],
            depends=["src/serialscale/accel/csrc/kernels.h", "src/serialscale/accel/csrc/needs.h"],
            optional=True,  # a failed build falls back to the pure-Python passes
            # No fused multiply-adds: the kernels must round exactly like the Python passes.
            extra_compile_args=["-O2", "-ffp-contract=off"],
        ),
        Extension(
            "serialscale.accel._tape",
            sources=["src/serialscale/accel/csrc/tape.c"],
            depends=["src/serialscale/accel/csrc/needs.h"],
            optional=True,  # without it, tracing runs the pure-Python operators
            extra_compile_args=["-O2"],
        ),
        Extension(
            "serialscale.accel._scoped",
            sources=["src/serialscale/accel/csrc/scoped.c"],
            optional=True,  # without it, --control scoped watches in Python (trace/scopes.py)
            extra_compile_args=["-O2"],
        ),
    ]
)
