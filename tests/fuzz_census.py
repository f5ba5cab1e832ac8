"""Fuzz census of network files: run N edited files (the strategy of test_formats.py) through
``nnxp.load`` and count the outcomes, listing every exception that is not an NNXPError by type
and by the nnxp line it passed through.  The tests assert there are none; this counts them,
which is what docs/reliability.md reports.  Not collected by pytest.

    PYTHONPATH=. python tests/fuzz_census.py --examples 2000 --seed 0 --backend numpy

``--memory-limit-gb`` (default 3) caps the address space so that an nnxp that builds huge
networks from small files fails with MemoryError (counted) instead of exhausting the machine.
"""

import argparse
import collections
import os
import resource
import sys
import tempfile
import time
import traceback
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--memory-limit-gb", type=float, default=3.0)
    args = parser.parse_args()
    limit = int(args.memory_limit_gb * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    warnings.simplefilter("error", RuntimeWarning)  # as in the test suite

    import nnxp
    try:
        import nnxp.formats  # noqa: F401
    except ImportError:  # an nnxp from before nnxp.formats: count its outcomes too
        import types
        nnxp.formats = sys.modules["nnxp.formats"] = types.ModuleType("nnxp.formats")
    import test_formats as cases
    from hypothesis import HealthCheck, Phase, given, seed, settings

    outcomes, raw, slow = collections.Counter(), collections.Counter(), []
    path = os.path.join(tempfile.mkdtemp(), "net.json")

    @seed(args.seed)
    @settings(max_examples=args.examples, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(cases.edited_files())
    def run(data):
        with open(path, "wb") as f:
            f.write(data)
        start = time.perf_counter()
        try:
            outcomes[cases.load_outcome(path)] += 1
        except AssertionError as exc:  # loaded, but not a sane network
            outcomes["loaded but insane"] += 1
            raw[("AssertionError", str(exc)[:60])] += 1
        except Exception as exc:
            outcomes["raw exception"] += 1
            frames = [f for f in traceback.extract_tb(exc.__traceback__)
                      if f"{os.sep}nnxp{os.sep}" in f.filename]
            where = (f"{os.path.basename(frames[-1].filename)}:{frames[-1].lineno}"
                     if frames else "?")
            raw[(type(exc).__name__, where)] += 1
        seconds = time.perf_counter() - start
        if seconds > 0.5:
            slow.append((round(seconds, 1), data[:60]))

    start = time.time()
    with nnxp.use_backend(args.backend):
        run()
    print(f"{args.examples} edited network files, seed {args.seed}, backend {args.backend}, "
          f"{time.time() - start:.0f} s, nnxp from {os.path.dirname(nnxp.__file__)}")
    for outcome, count in outcomes.most_common():
        print(f"  {count:6d}  {outcome}")
    print(f"raw exceptions: {sum(raw.values())} from {len(raw)} (type, place) pairs")
    for (kind, where), count in raw.most_common():
        print(f"  {count:6d}  {kind} at {where}")
    print(f"loads slower than 0.5 s: {len(slow)}; slowest: {sorted(slow)[-3:]}")


if __name__ == "__main__":
    main()
