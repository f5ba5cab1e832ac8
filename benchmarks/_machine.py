"""The machine a benchmark ran on, recorded with its results.

    machine() -> dict   python, cpus, load_average, cpu (model name), blas (threadpoolctl's
                        pools: api, version, threads, architecture)
"""

from __future__ import annotations

import os
import platform


def machine() -> dict:
    info = {"python": platform.python_version(), "load_average": os.getloadavg(),
            "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in f
                               if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: p.get(k) for k in ("internal_api", "version", "num_threads",
                                                "architecture")} for p in threadpool_info()]
    except ImportError:
        info["blas"] = "threadpoolctl not installed"
    return info
