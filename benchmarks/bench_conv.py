"""Chapter 6's two-convolution network: nnxp against hand-written floors, interleaved in one run.

    python benchmarks/bench_conv.py                          the defaults below
    python benchmarks/bench_conv.py --images 2000 --rounds 3 --backends numpy,jax
    python benchmarks/bench_conv.py --network3 /tmp/network3_book.py   also the book on Theano
    python benchmarks/bench_conv.py --json /tmp/conv.json    also write every figure as JSON

The work (float32, mini-batch 10, the first ``--images`` MNIST training images, 10,000 by
default): network3's SGD on the book's two-convolution ReLU network

    ConvPool(20 filters 5x5, pool 2x2, ReLU)  -> (20, 12, 12)
    ConvPool(40 filters 5x5, pool 2x2, ReLU)  -> (40, 4, 4)
    FullyConnected(640 -> 100, ReLU)
    Softmax(100 -> 10)

with eta 0.03 and lmbda 0.1 (chapter 6's 99.23% row): mini-batches in order (network3 does not
shuffle), cost = mean log-likelihood + 0.5 * lmbda * sum(w**2) / num_training_batches over
every layer's w, update ``param - eta * grad``.  Every contender starts from the same weights
(network3's initializer after ``np.random.seed(0)``).  Contenders (``--backends``,
``--floors``):

    nnxp-<backend>-float32   nnxp.compat.network3 (``net.SGD``) on numpy, jax, torch (cupy)
    torch_eager-float32      PyTorch eager: F.conv2d, F.max_pool2d, autograd,
                             torch.optim.SGD (weight_decay = lmbda / num_training_batches on
                             the weights only), cross_entropy on the logits
    jax_scan-float32         one jax.jit program per epoch: lax.scan of a step that is jax.grad
                             of the loss, lax.conv_general_dilated, lax.reduce_window
    theano-float32           the book's own network3.py on Theano 0.8.2 (Python 3.8), in a
                             subprocess (``--network3 PATH`` of the book's file, ``--theano-
                             python``): it cannot interleave, so its epochs are timed apart
                             (from the timestamps of the lines it prints) and its ratios are
                             ratios of medians, not paired

The same arithmetic: the floors compute the book's forward pass (convolve, max-pool, add the
bias, then the activation) and the gradient of the same cost (checked against nnxp in float64
by tests/test_bench_conv.py).  Two differences, which belong to what is measured: the floors'
max-pool gradient goes to the first maximum of a window (PyTorch's and XLA's), network3's to
every element equal to it (Theano's, kept by nnxp.compat.network3); and nnxp's ``SGD`` call
also evaluates its ``validation_data``, given here as one mini-batch of 10 images (network3
insists on validation data), about 0.1% of an epoch's work.  ``--ties-first`` adds nnxp
contenders whose ConvPool layers use the floors' max-pool gradient (``ties="first"``), with
their paired ratio to network3's own: what Theano's tie rule costs.

How it is timed (bench_mnist.py's helpers, the same rules): prepared once, untimed (nnxp: the
network built, the data made read-only so that nnxp keeps its device copy; the floors: their
tensors on the device); one untimed warm-up round each (JAX compiles there, nnxp moves the
data to the device); then ``--rounds`` rounds, each running ``--epochs-per-round``
epochs of every contender (nnxp: one ``net.SGD(data, k, ...)`` call), the order rotated by one
each round.  Figures are per epoch.  Ratios are paired: the median over rounds of (contender's
time / its reference's time in the same round), with the range.  Every contender runs inside
nnxp's thread policy for its products (one thread below 2**28 multiply-adds per product; the
largest product here is 12.8 million).  Peak memory: each contender again in a fresh process
(data, one warm-up round and one round): its VmHWM (``resource.getrusage``'s ru_maxrss where
there is no /proc: on Linux ru_maxrss survives exec and would report this big parent's size),
with the high-water mark before the contender was made (Python, NumPy, nnxp, the data).  The machine
(CPU, BLAS, versions, load average before and after) is recorded with the results.  Nothing is
written unless ``--json PATH`` says where.

Targets: nnxp-jax <= 1.10 x jax_scan, nnxp-torch <= 1.10 x torch_eager, nnxp-numpy <= 2 x
torch_eager.  GPU figures are not measured on these machines (no CUDA device); on one:

    python benchmarks/bench_conv.py --backends cupy,jax,torch --device gpu
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nnxp  # noqa: E402
from benchmarks import _cli, bench_mnist  # noqa: E402

ETA, LMBDA, MINI_BATCH_SIZE, SEED = 0.03, 0.1, 10, 0
BACKENDS = ("numpy", "jax", "torch")
FLOORS = ("torch_eager", "jax_scan", "theano")
# (contender, reference, target ratio)
TARGETS = (("nnxp-jax-float32", "jax_scan-float32", 1.10),
           ("nnxp-torch-float32", "torch_eager-float32", 1.10),
           ("nnxp-numpy-float32", "torch_eager-float32", 2.0))
# multiply-adds of the largest product of a step: the second convolution, 40*20*25 per output
# position, 8x8 positions, 10 examples (what nnxp's thread policy looks at)
WORK = MINI_BATCH_SIZE * 40 * 20 * 5 * 5 * 8 * 8
GPU_COMMAND = "python benchmarks/bench_conv.py --backends cupy,jax,torch --device gpu"
THEANO_FLAGS = "device=cpu,floatX=float32,blas.ldflags="
REFERENCE_SCRIPT = ROOT / "tests" / "reference" / "make_network3_reference.py"


# -- the network, the book's way ---------------------------------------------------------------

def book_network(ties="all"):
    """nnxp.compat.network3's Network of the benchmark (weights from NumPy's global generator:
    seed it first); its dtype is NNXP_FLOATX's.  ``ties="first"``: its ConvPool layers send
    max-pooling's gradient to the first maximum of a window, as the libraries do, instead of
    to every maximum (Theano's, network3's)."""
    from nnxp.compat import network3 as n3
    m = MINI_BATCH_SIZE
    layers = [
        n3.ConvPoolLayer(image_shape=(m, 1, 28, 28), filter_shape=(20, 1, 5, 5),
                         poolsize=(2, 2), activation_fn=n3.ReLU),
        n3.ConvPoolLayer(image_shape=(m, 20, 12, 12), filter_shape=(40, 20, 5, 5),
                         poolsize=(2, 2), activation_fn=n3.ReLU),
        n3.FullyConnectedLayer(n_in=40 * 4 * 4, n_out=100, activation_fn=n3.ReLU),
        n3.SoftmaxLayer(n_in=100, n_out=10)]
    for layer in layers[:2]:
        layer.layer = dataclasses.replace(layer.layer, ties=ties)
    return n3.Network(layers, m)


def initial_parameters(seed=SEED):
    """[(w, b), ...] in the book's layouts (conv w (F, C, kh, kw) as Theano convolves, dense w
    (n_in, n_out)), host arrays: what network3 draws after ``np.random.seed(seed)``."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        net = book_network()
    finally:
        np.random.set_state(state)
    return [(layer.w.get_value(), layer.b.get_value()) for layer in net.layers]


def _flip(w):
    """Theano's convolution <-> the libraries' cross-correlation (its own inverse)."""
    return np.ascontiguousarray(w[:, :, ::-1, ::-1])


def _policy(library):
    """nnxp's thread policy for this network's products, applied to ``library``'s threads."""
    return nnxp.backends.load(library).limit_threads(WORK)


# -- contenders ---------------------------------------------------------------------------------

class NnxpConv:
    """nnxp.compat.network3 as a reader runs it: ``net.SGD(training, k, 10, eta, validation,
    None, lmbda)`` per round on host arrays (moved to the device once, kept by nnxp)."""

    family = "nnxp"
    compile_seconds = None

    def __init__(self, backend, epochs=1, device=None, dtype="float32", ties="all"):
        self.backend, self.device, self.epochs, self.dtype = backend, device, epochs, dtype
        self.ties = ties
        self.name = f"nnxp-{backend}-{dtype}" + ("" if ties == "all" else f" [ties {ties}]")

    def prepare(self, X, y):
        state = np.random.get_state()
        np.random.seed(SEED)
        try:
            with _floatx(self.dtype):
                self.net = book_network(self.ties)
        finally:
            np.random.set_state(state)
        X = np.array(X, dtype=self.dtype)
        y = np.array(y, dtype=np.int32)
        for a in (X, y):
            a.flags.writeable = False  # read-only: nnxp keeps the device copy between calls
        self.training = (X, y)
        self.validation = (X[:MINI_BATCH_SIZE], y[:MINI_BATCH_SIZE])

    def run_epoch(self, perm=None):
        del perm  # network3 visits the mini-batches in order
        with nnxp.use_backend(self.backend, self.device):
            with contextlib.redirect_stdout(io.StringIO()):
                self.net.SGD(self.training, self.epochs, MINI_BATCH_SIZE, ETA, self.validation,
                             None, lmbda=LMBDA)

    def weights(self):
        return [(layer.w.get_value(), layer.b.get_value()) for layer in self.net.layers]


@contextlib.contextmanager
def _floatx(dtype):
    before = os.environ.get("NNXP_FLOATX")
    os.environ["NNXP_FLOATX"] = dtype
    try:
        yield
    finally:
        if before is None:
            del os.environ["NNXP_FLOATX"]
        else:
            os.environ["NNXP_FLOATX"] = before


class TorchEagerConv:
    """What a PyTorch user writes: F.conv2d, F.max_pool2d, F.relu, F.cross_entropy on the
    logits (log-softmax + mean negative log-likelihood: the softmax layer's cost), autograd,
    torch.optim.SGD(lr=eta) with weight_decay = lmbda / num_training_batches on the weights
    (the gradient of 0.5 * lmbda * sum(w**2) / num_training_batches), mini-batches in order."""

    family = "floor"
    compile_seconds = None
    library = "torch"

    def __init__(self, params, epochs=1, device=None, dtype="float32"):
        import torch
        self.torch, self.epochs, self.dtype = torch, epochs, dtype
        kind = (device or "cpu").partition(":")[0]
        self.dev = torch.device({"gpu": "cuda"}.get(kind, kind) + (device or "")[len(kind):])
        self.tdtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
        self.name = f"torch_eager-{dtype}"
        self.params = [(self._tensor(_flip(w) if w.ndim == 4 else w), self._tensor(b))
                       for w, b in params]

    def _tensor(self, a):
        t = self.torch.tensor(np.asarray(a), dtype=self.tdtype, device=self.dev)
        return t.requires_grad_(True)

    def prepare(self, X, y):
        torch = self.torch
        n = X.shape[0] // MINI_BATCH_SIZE * MINI_BATCH_SIZE
        self.X = torch.tensor(X[:n].reshape(n, 1, 28, 28), dtype=self.tdtype, device=self.dev)
        self.y = torch.tensor(y[:n], dtype=torch.int64, device=self.dev)
        self.batches = n // MINI_BATCH_SIZE
        self.optimizer = torch.optim.SGD(
            [{"params": [w for w, _ in self.params],
              "weight_decay": LMBDA / self.batches},
             {"params": [b for _, b in self.params], "weight_decay": 0.0}], lr=ETA)

    def logits(self, x):
        F = self.torch.nn.functional
        (w1, b1), (w2, b2), (w3, b3), (w4, b4) = self.params
        a = F.relu(F.max_pool2d(F.conv2d(x, w1), 2) + b1[:, None, None])
        a = F.relu(F.max_pool2d(F.conv2d(a, w2), 2) + b2[:, None, None])
        a = F.relu(a.flatten(1) @ w3 + b3)
        return a @ w4 + b4

    def batch_loss(self, x, y):
        """The cost of one mini-batch (x (m, 784), y (m,) host arrays), L2 term included, as
        a float (what the optimizer's weight decay differentiates)."""
        F = self.torch.nn.functional
        x = self.torch.tensor(np.asarray(x).reshape(-1, 1, 28, 28), dtype=self.tdtype,
                              device=self.dev)
        y = self.torch.tensor(np.asarray(y), dtype=self.torch.int64, device=self.dev)
        l2 = sum((w ** 2).sum() for w, _ in self.params)
        with self.torch.no_grad():
            return float(F.cross_entropy(self.logits(x), y)
                         + 0.5 * LMBDA * l2 / self.batches)

    def run_epoch(self, perm=None):
        del perm  # in order, as network3
        F, m = self.torch.nn.functional, MINI_BATCH_SIZE
        with _policy("torch") if self.dev.type == "cpu" else contextlib.nullcontext():
            for _ in range(self.epochs):
                for k in range(0, self.batches * m, m):
                    self.optimizer.zero_grad()
                    F.cross_entropy(self.logits(self.X[k:k + m]), self.y[k:k + m]).backward()
                    self.optimizer.step()
        if self.dev.type == "cuda":
            self.torch.cuda.synchronize()

    def weights(self):
        return [(_flip(w.detach().cpu().numpy()) if w.ndim == 4 else w.detach().cpu().numpy(),
                 b.detach().cpu().numpy()) for w, b in self.params]


def _jax_epoch(batches):
    """The pure epoch (params, X (batches, m, 1, 28, 28), y (batches, m)) -> params: lax.scan
    of p - eta * jax.grad(loss)(p, batch), eta and lmbda baked in as constants."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    def forward(params, x):
        (w1, b1), (w2, b2), (w3, b3), (w4, b4) = params
        for w, b in ((w1, b1), (w2, b2)):
            x = lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
            x = lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
            x = jax.nn.relu(x + b[:, None, None])
        x = jax.nn.relu(x.reshape(x.shape[0], -1) @ w3 + b3)
        return x @ w4 + b4

    def loss(params, x, y):
        logp = jax.nn.log_softmax(forward(params, x))
        nll = -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
        return nll + 0.5 * LMBDA * sum(jnp.sum(w ** 2) for w, _ in params) / batches

    def step(params, batch):
        grads = jax.grad(loss)(params, *batch)
        return jax.tree_util.tree_map(lambda p, g: p - ETA * g, params, grads), None

    def epoch(params, X, y):
        return lax.scan(step, params, (X, y))[0]

    return epoch, loss


class JaxScanConv:
    """One jax.jit program per epoch (lax.scan over the mini-batches in order), compiled ahead
    of time on the first run (``compile_seconds``); data and weights on the device once,
    weights donated.  float64 turns on jax_enable_x64 for the process."""

    family = "floor"
    compile_seconds = None
    library = None

    def __init__(self, params, epochs=1, device=None, dtype="float32"):
        import jax
        if dtype == "float64" and not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)
        self.jax, self.epochs, self.dtype = jax, epochs, dtype
        kind, _, index = (device or jax.default_backend()).partition(":")
        self.dev = jax.devices({"cuda": "gpu"}.get(kind, kind))[int(index or 0)]
        self.name = f"jax_scan-{dtype}"
        self.params = jax.device_put(
            tuple((np.asarray(_flip(w) if w.ndim == 4 else w, dtype), np.asarray(b, dtype))
                  for w, b in params), self.dev)
        self._compiled = None

    def prepare(self, X, y):
        jax, m = self.jax, MINI_BATCH_SIZE
        self.batches = X.shape[0] // m
        n = self.batches * m
        self.X = jax.device_put(np.asarray(X[:n], self.dtype).reshape(self.batches, m, 1, 28, 28),
                                self.dev)
        self.y = jax.device_put(np.asarray(y[:n], np.int32).reshape(self.batches, m), self.dev)
        epoch, self.loss = _jax_epoch(self.batches)
        self._epoch = jax.jit(epoch, donate_argnums=0)

    def run_epoch(self, perm=None):
        del perm  # in order, as network3
        if self._compiled is None:
            start = time.perf_counter()
            self._compiled = self._epoch.lower(self.params, self.X, self.y).compile()
            self.compile_seconds = time.perf_counter() - start
        for _ in range(self.epochs):
            self.params = self._compiled(self.params, self.X, self.y)
        self.jax.block_until_ready(self.params)

    def batch_loss(self, x, y):
        """The cost of one mini-batch (host arrays), L2 term included, as a float."""
        x = np.asarray(x, self.dtype).reshape(-1, 1, 28, 28)
        return float(self.loss(self.params, x, np.asarray(y, np.int32)))

    def weights(self):
        return [(_flip(np.asarray(w)) if w.ndim == 4 else np.asarray(w), np.asarray(b))
                for w, b in self.params]


def make(name, epochs=1, device=None, dtype="float32", params=None):
    """The contender ``name``: "nnxp-<backend>" (+ "/first": ties="first"), "torch_eager" or
    "jax_scan"."""
    if name.startswith("nnxp-"):
        backend, _, ties = name[5:].partition("/")
        return NnxpConv(backend, epochs, device, dtype, ties or "all")
    params = initial_parameters() if params is None else params
    return {"torch_eager": TorchEagerConv, "jax_scan": JaxScanConv}[name](
        params, epochs, device, dtype)


# -- the book on Theano (subprocess) ------------------------------------------------------------

_THEANO_CODE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import make_network3_reference as ref
import numpy as np
book, folder, n, epochs = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
n3 = ref.load_network3(book)
x = ref.read_idx(folder + "/train-images-idx3-ubyte.gz", 2051).reshape(-1, 784)[:n]
y = ref.read_idx(folder + "/train-labels-idx1-ubyte.gz", 2049)[:n]
training, small = ref.shared(n3, x, y), ref.shared(n3, x[:10], y[:10])
np.random.seed(0)
net = n3.Network(ref.build(n3, ref.CONFIGS["dbl_conv_relu"][4]), 10)

class Clock:
    def __init__(self):
        self.lines, self.part = [], ""
    def write(self, s):
        self.part += s
        while "\n" in self.part:
            line, self.part = self.part.split("\n", 1)
            self.lines.append((time.perf_counter(), line))
    def flush(self):
        pass

def peak_rss():  # VmHWM: ru_maxrss survives exec on Linux (it would be the parent's)
    try:
        with open("/proc/self/status") as f:
            return int(next(l for l in f if l.startswith("VmHWM:")).split()[1]) * 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

clock, out = Clock(), sys.stdout
sys.stdout = clock
start = time.perf_counter()
net.SGD(training, epochs, 10, 0.03, small, small, lmbda=0.1)
sys.stdout = out
t0 = next(t for t, line in clock.lines if line.startswith("Training mini-batch number 0"))
ends = [t for t, line in clock.lines if line.startswith("Epoch ")]
json.dump({"compile_seconds": t0 - start,
           "epoch_seconds": [b - a for a, b in zip([t0] + ends[:-1], ends)],
           "peak_rss_bytes": peak_rss(),
           "floatX": n3.theano.config.floatX, "theano": n3.theano.__version__,
           "numpy": np.__version__, "python": sys.version.split()[0]}, out)
"""


def run_theano(args, n_images):
    """The book's network3.py on Theano in a subprocess: one warm-up epoch, then ``rounds x
    epochs_per_round`` epochs.  A record like interleave's, or {"skipped": reason}."""
    if not args.network3:
        return {"skipped": "no --network3 PATH of the book's src/network3.py given"}
    python = args.theano_python
    if not python or not Path(python).exists():
        return {"skipped": f"no Theano Python at {python!r} (--theano-python)"}
    from benchmarks._mnist import resolve_dir
    epochs = 1 + args.rounds * args.epochs_per_round
    env = {**os.environ, "THEANO_FLAGS": THEANO_FLAGS, "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    print(f"theano: {epochs} epochs in a subprocess ...", file=sys.stderr, flush=True)
    before = bench_mnist.loadavg()
    try:
        out = subprocess.run([python, "-c", _THEANO_CODE, str(REFERENCE_SCRIPT.parent),
                              str(Path(args.network3).resolve()), str(resolve_dir()),
                              str(n_images), str(epochs)], capture_output=True, text=True,
                             env=env, timeout=args.theano_timeout)
    except subprocess.TimeoutExpired:
        return {"skipped": f"timed out after {args.theano_timeout} s"}
    if out.returncode:
        return {"skipped": f"failed (exit {out.returncode}): {out.stderr.strip()[-400:]}"}
    result = json.loads(out.stdout)
    times = result.pop("epoch_seconds")
    if len(times) != epochs:
        return {"skipped": f"expected {epochs} epochs, timed {len(times)}"}
    per_epoch = times[1:]
    return {"contender": "theano-float32", "dtype": result["floatX"], "warmup_seconds": times[0],
            "epoch_seconds": per_epoch, "median_seconds": statistics.median(per_epoch),
            "min_seconds": min(per_epoch), "max_seconds": max(per_epoch),
            "images_per_second": n_images // MINI_BATCH_SIZE * MINI_BATCH_SIZE
            / statistics.median(per_epoch), "theano_flags": THEANO_FLAGS,
            "loadavg_before": before, "loadavg_after": bench_mnist.loadavg(), **result}


# -- running --------------------------------------------------------------------------------------

def per_epoch(records, k, n):
    """interleave's records timed k epochs per round: every time divided by k."""
    for rec in records.values():
        rec["epoch_seconds"] = [t / k for t in rec["epoch_seconds"]]
        rec["warmup_seconds"] /= k
        times = rec["epoch_seconds"]
        rec.update(median_seconds=statistics.median(times), min_seconds=min(times),
                   max_seconds=max(times), images_per_second=n / statistics.median(times))
    return records


def targets(records, theano):
    out = []
    for name, ref, target in TARGETS:
        ratio = bench_mnist.paired(records, name, ref)
        out.append({"contender": name, "vs": ref, "target": target, "ratio": ratio,
                    "met": None if ratio is None else ratio["median"] <= target})
    for rec in records.values():
        if rec["contender"].endswith(" [ties first]"):
            rec["vs_ties_all"] = bench_mnist.paired(records, rec["contender"],
                                                    rec["contender"][:-len(" [ties first]")])
        rec["vs_torch_eager"] = bench_mnist.paired(records, rec["contender"],
                                                   "torch_eager-float32")
        rec["vs_jax_scan"] = bench_mnist.paired(records, rec["contender"], "jax_scan-float32")
    if "median_seconds" in theano:
        theano["vs_nnxp"] = {name: records[name]["median_seconds"] / theano["median_seconds"]
                             for name in records if name.startswith("nnxp-")}
    return out


def peak_memory(name, args):
    """The peak memory (peak_rss_bytes) of a fresh process that loads the data, prepares
    ``name`` and runs its warm-up round and one round; and its high-water mark before
    ``name`` was made (Python, NumPy, nnxp and the data: the part every contender shares)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-of", name,
           "--images", str(args.images), "--epochs-per-round", str(args.epochs_per_round)]
    if args.device:
        cmd += ["--device", args.device]
    out = subprocess.run(cmd, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if out.returncode:
        return {"contender": name, "error": out.stderr.strip()[-400:]}
    return {"contender": name, **json.loads(out.stdout.strip().splitlines()[-1])}


def peak_rss_bytes():
    """This process's peak resident memory: VmHWM of /proc/self/status where there is one
    (``ru_maxrss`` of ``resource.getrusage`` survives exec on Linux, so a child started by a
    big parent would report the parent's size), else ``ru_maxrss``."""
    with contextlib.suppress(OSError, StopIteration):
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _memory_child(args):
    X, y = load_images(args.images)
    before = peak_rss_bytes()
    c = make(args.memory_of, args.epochs_per_round, args.device)
    c.prepare(X, y)
    c.run_epoch()
    c.run_epoch()
    print(json.dumps({"peak_rss_bytes": peak_rss_bytes(),
                      "peak_rss_bytes_before_contender": before}))


def load_images(n):
    """The first ``n`` MNIST training images (n, 784) float32 in [0, 1] and labels (n,),
    converted from the IDX file's bytes for these rows only (a small memory peak)."""
    from benchmarks._mnist import _FILES, _read_idx, resolve_dir
    folder = resolve_dir()
    raw = _read_idx(folder / _FILES["train_images"])[:n].reshape(-1, 784)
    X = raw.astype(np.float32) / np.float32(255.0)
    y = _read_idx(folder / _FILES["train_labels"])[:n].astype(np.int64)
    return X, y


def contender_names(args, variants=True):
    """The contenders' names for make(); variants=False: without the --ties-first ones."""
    ties = [f"nnxp-{b}/first" for b in args.backends] if args.ties_first and variants else []
    return ([f"nnxp-{b}" for b in args.backends] + ties
            + [f for f in args.floors if f != "theano"])


# -- printing ------------------------------------------------------------------------------------

def _ratio(r):
    return "-" if not r else f"{r['median']:.2f} [{r['min']:.2f}-{r['max']:.2f}]"


def print_report(report):
    m, s = report["machine"], report["settings"]
    print(f"\nmachine: {m['cpu']}, {m['cpus']} CPUs; load average at start {m['loadavg_start']}"
          f", at end {m.get('loadavg_end')}")
    print(f"  versions: {', '.join(f'{k} {v}' for k, v in m['versions'].items())}; "
          f"thread policy: {m['thread_policy']}")
    print(f"\nchapter 6's two-conv ReLU network, float32, mini-batch {MINI_BATCH_SIZE}, "
          f"{s['images']} images, {s['rounds']} rounds of {s['epochs_per_round']} epoch(s); "
          f"load {report['loadavg_before']} -> {report['loadavg_after']}")
    print(f"  {'contender':32s} {'s/epoch [range]':>24s} {'images/s':>9s} "
          f"{'x torch eager':>18s} {'x jax scan':>18s} {'compile s':>9s} {'peak MB':>8s} "
          f"{'base MB':>8s}")
    memory = {r["contender"]: r for r in report["memory"]}
    rows = list(report["contenders"])
    if "median_seconds" in report["theano"]:
        rows.append(report["theano"])
    for rec in rows:
        name = rec["contender"]
        mem = rec if "[" in name else memory.get(name.rsplit("-", 1)[0], rec)
        peak, base = (f"{mem[k] / 2**20:.0f}" if k in mem else "-"
                      for k in ("peak_rss_bytes", "peak_rss_bytes_before_contender"))
        comp = f"{rec['compile_seconds']:.2f}" if rec.get("compile_seconds") else "-"
        secs = (f"{rec['median_seconds']:.3f} [{rec['min_seconds']:.3f}-"
                f"{rec['max_seconds']:.3f}]")
        print(f"  {name:32s} {secs:>24s} {rec['images_per_second']:9.0f} "
              f"{_ratio(rec.get('vs_torch_eager')):>18s} {_ratio(rec.get('vs_jax_scan')):>18s} "
              f"{comp:>9s} {peak:>8s} {base:>8s}")
    for rec in report["contenders"]:
        if rec.get("vs_ties_all"):
            print(f"  {rec['contender']} / {rec['vs_ties_all']['vs']}: "
                  f"{_ratio(rec['vs_ties_all'])} (max-pool gradient to the first maximum, as "
                  "the floors, instead of every maximum, as Theano)")
    print("  (peak MB: the contender's whole process; base MB: its peak before the contender "
          "was made: Python, NumPy, nnxp, the data)")
    if "skipped" in report["theano"]:
        print(f"  theano-float32: not run ({report['theano']['skipped']})")
    print("\ntargets (paired ratios, median [range] over rounds):")
    for t in report["targets"]:
        verdict = ("not measured" if t["met"] is None else "met" if t["met"] else "NOT met")
        print(f"  {t['contender']:22s} <= {t['target']:.2f} x {t['vs']:20s} "
              f"{_ratio(t['ratio']):>18s}  {verdict}")
    print("\nestimates, not measurements:")
    if "vs_nnxp" in report["theano"]:
        print("  - the Theano ratios: its epochs ran apart, in another process "
              "(ratios of medians, not paired):")
        for name, r in report["theano"]["vs_nnxp"].items():
            print(f"      {name} / theano-float32 = {r:.2f}")
    for rec in report["contenders"]:
        full = rec["median_seconds"] * 50000 / s["images"] * 60 / 3600
        print(f"  - {rec['contender']}: the book's 60-epoch run on 50,000 images ~ {full:.1f} h "
              "(this epoch time scaled)")
    print("  - no GPU figure: none is measured here (no CUDA device).  On a GPU machine:")
    print(f"      {GPU_COMMAND}")


def main(argv=None):
    p = _cli.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=_cli.at_least(MINI_BATCH_SIZE), default=10000,
                   help="training images, at least one mini-batch (default 10000)")
    p.add_argument("--rounds", type=_cli.positive_int, default=5,
                   help="interleaved rounds (default 5)")
    p.add_argument("--epochs-per-round", type=_cli.positive_int, default=1,
                   help="epochs of each contender per round (default 1)")
    p.add_argument("--backends", type=_cli.backend_list, default=",".join(BACKENDS),
                   help="nnxp backends, comma-separated (default numpy,jax,torch)")
    p.add_argument("--floors", default=",".join(FLOORS),
                   help="hand-written contenders: torch_eager, jax_scan, theano")
    p.add_argument("--device", default=None, help="device for every contender, e.g. gpu")
    p.add_argument("--network3", default=os.environ.get("NNXP_BOOK_NETWORK3"),
                   help="the book's src/network3.py, for the Theano row "
                        "(default $NNXP_BOOK_NETWORK3)")
    p.add_argument("--theano-python", default=os.environ.get(
        "NNXP_THEANO_PYTHON", "/work/theano38/bin/python"),
                   help="Python 3.8 with theano 0.8.2 (default $NNXP_THEANO_PYTHON or "
                        "/work/theano38/bin/python)")
    p.add_argument("--theano-timeout", type=_cli.positive_float, default=3 * 3600,
                   help="seconds (default 3 hours)")
    p.add_argument("--ties-first", action="store_true",
                   help="also nnxp with max-pool ties='first' (the floors' gradient)")
    p.add_argument("--no-memory", dest="memory", action="store_false")
    p.add_argument("--json", default=None, metavar="PATH", help="write every figure here")
    p.add_argument("--memory-of", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_of:
        return _memory_child(args)
    args.floors = [f for f in args.floors.split(",") if f]
    unknown = [f for f in args.floors if f not in FLOORS]
    if unknown:
        p.error(f"unknown floors {unknown}; known: {', '.join(FLOORS)}")
    _cli.check_json(p, args.json)
    return run(args)

def run(args):
    X, y = load_images(args.images)
    n = X.shape[0] // MINI_BATCH_SIZE * MINI_BATCH_SIZE
    machine = bench_mnist.machine_info()
    params = initial_parameters()
    contenders = [make(name, args.epochs_per_round, args.device, params=params)
                  for name in contender_names(args)]
    before = bench_mnist.loadavg()
    records = bench_mnist.interleave(contenders, X, y, args.rounds, "conv")
    after = bench_mnist.loadavg()
    per_epoch(records, args.epochs_per_round, n)
    theano = (run_theano(args, args.images) if "theano" in args.floors
              else {"skipped": "not asked for (--floors)"})
    report = {"machine": machine,
              "settings": {"images": n, "rounds": args.rounds,
                           "epochs_per_round": args.epochs_per_round, "eta": ETA,
                           "lmbda": LMBDA, "mini_batch_size": MINI_BATCH_SIZE,
                           "backends": args.backends, "floors": args.floors,
                           "device": args.device, "date": time.strftime("%Y-%m-%d %H:%M:%S")},
              "loadavg_before": before, "loadavg_after": after,
              "contenders": list(records.values()), "theano": theano,
              "targets": targets(records, theano),
              "memory": ([peak_memory(name, args) for name in contender_names(args, False)]
                         if args.memory else []),
              "gpu_command": GPU_COMMAND,
              "estimates": ["the Theano ratios (not paired)",
                            "the 60-epoch full-run hours (epoch time scaled)",
                            "no GPU figure is measured"]}
    if "peak_rss_bytes" in theano:
        report["memory"].append({"contender": "theano", "peak_rss_bytes":
                                 theano["peak_rss_bytes"]})
    machine["loadavg_end"] = bench_mnist.loadavg()
    print_report(report)
    if args.json:
        _cli.write_json(args.json, report)
        print(f"\nwritten: {args.json}")
    return report


if __name__ == "__main__":
    main()
