"""Small synthetic problems and parameter surgery shared by the diagnostics tests."""

import numpy as np

N_IN, N_OUT = 8, 3


def problem_data(n=600, seed=1):
    """Three Gaussian clusters in [0, 1]-ish inputs, labels by cluster: learnable in an epoch."""
    rng = np.random.default_rng(seed)
    centres = rng.random((N_OUT, N_IN))
    labels = np.arange(n) % N_OUT
    x = centres[labels] + 0.15 * rng.standard_normal((n, N_IN))
    return x, labels


def uniform_data(n=600, seed=1):
    """Inputs uniform in [0, 1)^8 (every direction varies, so a unit is dead only if made so),
    labels from a fixed random teacher."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, N_IN))
    teacher = rng.standard_normal((N_IN, N_OUT))
    return x, np.argmax((x - 0.5) @ teacher, axis=1)


def set_params(net, params):
    """Replace a network's parameters by host arrays [(w, b), ...] (None keeps a layer)."""
    new = []
    for (w, b), given in zip(net.params, params):
        if given is None:
            new.append((w, b))
        else:
            new.append((net.backend.asarray(given[0], net.dtype),
                        net.backend.asarray(given[1], net.dtype)))
    net.params = tuple(new)


def host_params(net):
    return [(net.backend.to_numpy(w).astype(np.float64), net.backend.to_numpy(b).astype(np.float64))
            for w, b in net.params]


def kinds_at(report, severities=("error", "warning")):
    """{(kind, layer)} of the problems of these severities ("info" is not a verdict)."""
    return {(p.kind, p.layer) for p in report.problems if p.severity in severities}


def records(eta=2.0, **series):
    """Epoch records as SGD makes them, from equal-length lists per metric."""
    n = len(next(iter(series.values())))
    return [{"epoch": i, "eta": eta, **{k: v[i] for k, v in series.items()}} for i in range(n)]
