"""The device side of diagnose: one forward and one backward pass over the probe, every number
the checks need reduced on the device into one small flat array, one transfer to the host.

    probe_numbers(params, activations, cost, x, y, labels, saturation_prime, device)
        -> flat array, in ``layout`` order.  Pure, static output shape: JAX compiles it whole.
    layout(sizes, activations) -> [(layer, name, size), ...]
        what the flat array holds: per layer the SCALARS, then its per-unit vectors (``size``
        values each; size None: one number); layer None: the network's TOTALS (per class
        counts of predictions and labels, hits, argmax ties, mean cost, the inputs' RMS,
        largest magnitude and largest magnitude per input column)
    measure(net, probe, saturation_prime) -> (layers, totals)
        run it (compiled and cached on the network) and unpack it on the host: one dict of
        Python floats and lists per layer, and one for the network
    chance_cost(net, label_counts) -> float or None
        the mean cost of knowing nothing: every input given the class frequencies p as its
        output (sum over classes c of p_c cost(p, e_c)); the yardstick the history checks
        measure a change of the cost against (None for fewer than two classes)

x (m, n_in), y (m, n_out), labels (m,): the probe, on the network's device.  The gradients are
backprop.backward's (BP1-BP4) of the summed, unregularized cost; norms are divided by m.
"""

from __future__ import annotations

from ..backprop import backward, forward
from ..namespace import namespace

__all__ = ["probe_numbers", "layout", "measure", "chance_cost", "input_numbers", "total_size",
           "SCALARS", "TOTALS"]

SCALARS = ("finite", "act_mean", "act_std", "z_mean", "z_std", "weight_rms", "positive_weights",
           "negative_weights", "unit_spread", "grad_norm", "bias_grad_norm", "bias_max")
TOTALS = ("pred_counts", "label_counts", "hits", "ties", "cost_value",  # counts: one per class
          "x_rms", "x_max", "x_col_max")  # x_col_max: one per input column


def per_unit(act, is_output) -> tuple:
    """Names of a layer's per-unit vectors, in flat-array order ("peak" is one number)."""
    names = ("sat_share",) if act.saturating else ()
    names += ("active_share",) if act.rectified else ()
    if is_output:
        names += ("err_rms", "delta_rms") + (("peak",) if act.saturating else ())
    return names


def layout(sizes, activations) -> list:
    """[(layer, name, size or None), ...]: the flat array's entries in order."""
    entries, last = [], len(activations) - 1
    for l, (n_out, act) in enumerate(zip(sizes[1:], activations)):
        entries += [(l, name, None) for name in SCALARS]
        entries += [(l, name, None if name == "peak" else n_out)
                    for name in per_unit(act, l == last)]
    return entries + [(None, name, total_size(name, sizes[0], sizes[-1])) for name in TOTALS]


def total_size(name, n_in, n_out):
    """How many values a TOTALS entry holds: one per class for counts, one per input column
    for ``x_col_max``, else one (None)."""
    return n_out if name.endswith("_counts") else n_in if name == "x_col_max" else None


def rms(xp, v):
    """sqrt(mean(v^2)), computed on v / max|v| so that finite values past sqrt of the dtype's
    largest (1.8e19 in float32) give their RMS, not an overflow to inf (with NumPy's warning,
    and an inf that made every unit look identical)."""
    top = xp.max(xp.abs(v))
    scale = xp.where(top > 0, top, xp.ones_like(top))
    return scale * xp.sqrt(xp.mean((v / scale) * (v / scale)))


def std(xp, v):
    """The standard deviation of v, computed as ``rms`` is (no overflow for finite v)."""
    return rms(xp, v - xp.mean(v))


def input_numbers(xp, x) -> dict:
    """The inputs' scale over the probe: RMS, largest magnitude, and largest magnitude per
    column (inputs flattened to (m, n_in))."""
    flat = xp.abs(xp.reshape(x, (x.shape[0], -1)))
    return {"x_rms": rms(xp, flat), "x_max": xp.max(flat),
            "x_col_max": xp.max(flat, axis=0)}


def probe_numbers(params, activations, cost, x, y, labels, saturation_prime, device):
    """Every number of ``layout``, as one flat array of the output's dtype."""
    xp = namespace(x)
    zs, as_ = forward(params, activations, x)
    grads = backward(params, activations, cost, zs, as_, y)
    last, parts = len(params) - 1, []
    for l, ((w, b), act, z, a, (gw, gb)) in enumerate(
            zip(params, activations, zs, as_[1:], grads)):
        numbers = _layer(xp, w, b, z, a, gw, gb, x.shape[0])
        numbers |= _units(xp, act, z, a, saturation_prime)
        if l == last:
            numbers |= _output(xp, act, cost, z, a, y)
        parts += [numbers[name] for name in SCALARS + per_unit(act, l == last)]
    totals = _totals(xp, cost, as_[-1], y, labels, device)
    totals |= input_numbers(xp, x)
    parts += [totals[name] for name in TOTALS]
    dtype = as_[-1].dtype
    return xp.concat([xp.reshape(xp.astype(p, dtype), (-1,)) for p in parts])


def _layer(xp, w, b, z, a, gw, gb, m) -> dict:
    """The SCALARS of one layer: activations, z, weights, gradients (mean over m rows)."""
    return {
        "finite": xp.astype(xp.all(xp.isfinite(w)) & xp.all(xp.isfinite(b)), w.dtype),
        "act_mean": xp.mean(a), "act_std": xp.std(a),
        "z_mean": xp.mean(z), "z_std": std(xp, z),
        "weight_rms": rms(xp, w),
        "positive_weights": xp.mean(xp.astype(w > 0, w.dtype)),
        "negative_weights": xp.mean(xp.astype(w < 0, w.dtype)),
        "unit_spread": xp.max(xp.abs(w - xp.mean(w, axis=0, keepdims=True))),
        "grad_norm": xp.sqrt(xp.sum(gw * gw)) / m,
        "bias_grad_norm": xp.sqrt(xp.sum(gb * gb)) / m,
        "bias_max": xp.max(xp.abs(b)),
    }


def _units(xp, act, z, a, saturation_prime) -> dict:
    """Per unit: the share of inputs saturating it (saturating activations) or making it
    active, z > 0 (rectified ones)."""
    numbers = {}
    if act.saturating:
        rel = act.backward(z, a, xp.ones_like(z)) / _peak_derivative(xp, act, z)
        numbers["sat_share"] = xp.mean(xp.astype(rel < saturation_prime, z.dtype), axis=0)
    if act.rectified:
        numbers["active_share"] = xp.mean(xp.astype(z > 0, z.dtype), axis=0)
    return numbers


def _output(xp, act, cost, z, a, y) -> dict:
    """Per output unit: RMS of the error a - y and of the error signal delta^L."""
    err, delta = a - y, cost.delta(z, a, y, act)
    numbers = {"err_rms": xp.sqrt(xp.mean(err * err, axis=0)),
               "delta_rms": xp.sqrt(xp.mean(delta * delta, axis=0))}
    if act.saturating:
        numbers["peak"] = _peak_derivative(xp, act, z)
    return numbers


def _totals(xp, cost, out, y, labels, device) -> dict:
    """The TOTALS: predictions and labels per class, hits, ties (rows whose largest output is
    shared by two or more units: argmax then takes the first), and the mean cost."""
    classes = xp.arange(out.shape[1], dtype=labels.dtype, device=device)
    pred = xp.argmax(out, axis=1)
    top = xp.sum(xp.astype(out == xp.max(out, axis=1, keepdims=True), out.dtype), axis=1)
    return {"pred_counts": xp.sum(xp.astype(pred[:, None] == classes[None, :], out.dtype), axis=0),
            "label_counts": xp.sum(xp.astype(labels[:, None] == classes[None, :], out.dtype),
                                   axis=0),
            "hits": xp.sum(xp.astype(pred == labels, out.dtype)),
            "ties": xp.sum(xp.astype(top > 1, out.dtype)),
            "cost_value": xp.mean(cost.fn(out, y))}


def _peak_derivative(xp, act, z):
    """The activation's largest derivative, taken at z = 0 (sigmoid 1/4, tanh 1)."""
    z0 = xp.zeros_like(z[:1, :1])
    return xp.reshape(act.backward(z0, act.fn(z0), xp.ones_like(z0)), ())


# -- on the host ------------------------------------------------------------------------------

def measure(net, probe, saturation_prime) -> tuple:
    """(layers, totals): ``layout``'s numbers of ``probe`` as Python floats and lists, from
    one compiled (on JAX) call and one device -> host transfer."""
    fn = _measurer(net, saturation_prime)
    with net.backend.device_scope():
        flat = net.backend.to_numpy(fn(net.params, probe.x, probe.y, probe.labels)).tolist()
    layers, totals, i = [{} for _ in net.params], {}, 0
    for l, name, size in layout(net.sizes, net.activations):
        into = totals if l is None else layers[l]
        into[name] = flat[i] if size is None else flat[i:i + size]
        i += 1 if size is None else size
    assert i == len(flat), "layout and probe_numbers disagree"
    return layers, totals


def _measurer(net, saturation_prime):
    """``probe_numbers`` for this network, compiled by its engine (the owner of compiled
    programs) once per saturation_prime: the only threshold the device computation uses."""
    acts, cost, device = net.activations, net.cost, net.backend.device
    return net.engine().function(("diagnose", saturation_prime), lambda: (
        lambda params, x, y, labels: probe_numbers(params, acts, cost, x, y, labels,
                                                   saturation_prime, device)))


def chance_cost(net, label_counts):
    """The mean cost, under ``net.cost``, of predicting the class frequencies for every input
    (frequencies floored at 1e-3, so that a class absent from the probe costs finitely)."""
    m, k = sum(label_counts), len(label_counts)
    if k < 2 or m <= 0:
        return None
    p = [max(c / m, 1e-3) for c in label_counts]
    be = net.backend
    with be.device_scope():
        a = be.asarray([p] * k, net.dtype)
        y = be.asarray([[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)],
                       net.dtype)
        per_class = be.to_numpy(net.cost.fn(a, y)).tolist()
    return sum(c / m * v for c, v in zip(label_counts, per_class))
