"""Independent references the parity suite compares nnxp against (NumPy, float64, host only).

    network2_sgd(weights, biases, X, Y, order, m, eta, lmbda, n)   network2's per-example loop
    finite_difference_grads(loss, params, eps)                     central differences
    book_init(sizes, large=False)          network2's (and network.py's) draws from np.random
    book_sgd(weights, biases, training_data, epochs, m, eta, ...)  network.py / network2.py's
                                           SGD on a list of column pairs: random.shuffle of
                                           the list each epoch, monitoring as printed

Written from the book's equations, deliberately unlike nnxp's code: column vectors, one example
at a time, the naive sigmoid, network2's literal update rule.
"""

import random

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def network2_backprop(weights, biases, x, y, cost="cross_entropy"):
    """network2.Network.backprop for one column-vector example; ``cost`` "cross_entropy"
    (delta = a - y) or "quadratic" (network.py's delta = (a - y) sigma'(z))."""
    activation, activations, zs = x, [x], []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = _sigmoid(z)
        activations.append(activation)
    delta = activations[-1] - y  # CrossEntropyCost.delta
    if cost == "quadratic":
        delta = delta * (_sigmoid(zs[-1]) * (1 - _sigmoid(zs[-1])))
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    nabla_b[-1], nabla_w[-1] = delta, np.dot(delta, activations[-2].T)
    for l in range(2, len(weights) + 1):
        sp = _sigmoid(zs[-l]) * (1 - _sigmoid(zs[-l]))
        delta = np.dot(weights[-l + 1].T, delta) * sp
        nabla_b[-l], nabla_w[-l] = delta, np.dot(delta, activations[-l - 1].T)
    return nabla_b, nabla_w


def network2_sgd(weights, biases, X, Y, order, m, eta, lmbda, n):
    """One epoch of network2.SGD over X[order] (rows), in mini-batches of m; returns w, b."""
    weights = [w.astype(np.float64).copy() for w in weights]
    biases = [b.astype(np.float64).reshape(-1, 1).copy() for b in biases]
    data = [(X[i].reshape(-1, 1), Y[i].reshape(-1, 1)) for i in order]
    for k in range(0, len(data), m):
        mini_batch = data[k:k + m]
        nabla_b = [np.zeros(b.shape) for b in biases]
        nabla_w = [np.zeros(w.shape) for w in weights]
        for x, y in mini_batch:
            dnb, dnw = network2_backprop(weights, biases, x, y)
            nabla_b = [nb + d for nb, d in zip(nabla_b, dnb)]
            nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
        weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw
                   for w, nw in zip(weights, nabla_w)]
        biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(biases, nabla_b)]
    return weights, [b.reshape(-1) for b in biases]


def finite_difference_grads(loss, params, eps=1e-6):
    """Central differences of ``loss(params)`` with respect to every entry of every array."""
    grads = []
    for p in params:
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = loss(params)
            p[idx] = old - eps
            down = loss(params)
            p[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


def reference_sgd(weights, biases, X, Y, m, eta, lmbda=0.0, l1=0.0, mu=0.0, nesterov=False):
    """The book's update rules written out for one pass over X in order (no shuffling):
    gradient C = mean of network2_backprop + (lmbda/n) w + (l1/n) sgn(w); then
    v <- mu v - eta grad C and w <- w + v (momentum), w <- w + mu v - eta grad C (Nesterov's
    look-ahead form), w <- w - eta grad C (mu = 0, plain)."""
    n = len(X)
    weights = [w.astype(np.float64).copy() for w in weights]
    biases = [b.astype(np.float64).reshape(-1, 1).copy() for b in biases]
    vw = [np.zeros_like(w) for w in weights]
    vb = [np.zeros_like(b) for b in biases]
    for k in range(0, n, m):
        batch = range(k, min(k + m, n))
        gw = [np.zeros_like(w) for w in weights]
        gb = [np.zeros_like(b) for b in biases]
        for i in batch:
            db, dw = network2_backprop(weights, biases, X[i].reshape(-1, 1), Y[i].reshape(-1, 1))
            gw = [g + d for g, d in zip(gw, dw)]
            gb = [g + d for g, d in zip(gb, db)]
        size = len(batch)
        for j in range(len(weights)):
            grad_w = gw[j] / size + (lmbda / n) * weights[j] + (l1 / n) * np.sign(weights[j])
            grad_b = gb[j] / size
            vw[j] = mu * vw[j] - eta * grad_w
            vb[j] = mu * vb[j] - eta * grad_b
            if nesterov:
                weights[j] = weights[j] + mu * vw[j] - eta * grad_w
                biases[j] = biases[j] + mu * vb[j] - eta * grad_b
            else:
                weights[j] = weights[j] + vw[j]
                biases[j] = biases[j] + vb[j]
    return weights, [b.reshape(-1) for b in biases]


# -- the book's programs, written out ---------------------------------------------------------

def book_init(sizes, large=False):
    """Biases then weights from np.random.randn, in network2's order; weights / sqrt(n_in)
    unless ``large`` (network.py and large_weight_initializer)."""
    biases = [np.random.randn(n, 1) for n in sizes[1:]]
    weights = [np.random.randn(n_out, n_in) / (1.0 if large else np.sqrt(n_in))
               for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return weights, biases


def _feedforward(weights, biases, a):
    for w, b in zip(weights, biases):
        a = _sigmoid(np.dot(w, a) + b)
    return a


def _one_hot(y, k):
    if np.ndim(y) == 0:
        e = np.zeros((k, 1))
        e[int(y)] = 1.0
        return e
    return y


def book_cost(weights, biases, data, lmbda, cost):
    """network2.total_cost: mean per-example cost plus (lmbda / 2 len(data)) sum ||w||^2."""
    k, total = weights[-1].shape[0], 0.0
    for x, y in data:
        a, y = _feedforward(weights, biases, x), _one_hot(y, k)
        if cost == "quadratic":
            total += 0.5 * np.linalg.norm(a - y) ** 2 / len(data)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                total += np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a))) \
                    / len(data)
    return total + 0.5 * (lmbda / len(data)) * sum(np.linalg.norm(w) ** 2 for w in weights)


def book_accuracy(weights, biases, data):
    k = weights[-1].shape[0]
    return sum(int(np.argmax(_feedforward(weights, biases, x)) == np.argmax(_one_hot(y, k)))
               for x, y in data)


def book_sgd(weights, biases, training_data, epochs, m, eta, lmbda=0.0, cost="cross_entropy",
             evaluation_data=None, monitor=("training_cost", "training_accuracy",
                                            "evaluation_cost", "evaluation_accuracy")):
    """The book's SGD on ``training_data``, a list of (x column, y column) pairs that is
    shuffled in place with ``random.shuffle`` at the start of every epoch (seed ``random``
    first).  Per mini-batch: per-example backprop summed from zeros, then
    w <- (1 - eta lmbda / n) w - (eta / len) nabla_w, b <- b - (eta / len) nabla_b.
    Returns (weights, biases, records): one dict per epoch with what ``monitor`` names,
    measured as network2 does (per example)."""
    weights = [np.array(w, dtype=np.float64) for w in weights]
    biases = [np.array(b, dtype=np.float64).reshape(-1, 1) for b in biases]
    n, records = len(training_data), []
    for _ in range(epochs):
        random.shuffle(training_data)
        for k in range(0, n, m):
            mini_batch = training_data[k:k + m]
            nabla_b = [np.zeros(b.shape) for b in biases]
            nabla_w = [np.zeros(w.shape) for w in weights]
            for x, y in mini_batch:
                dnb, dnw = network2_backprop(weights, biases, x, y, cost)
                nabla_b = [nb + d for nb, d in zip(nabla_b, dnb)]
                nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
            weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw
                       for w, nw in zip(weights, nabla_w)]
            biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(biases, nabla_b)]
        record = {}
        for name in monitor:
            data = training_data if name.startswith("training") else evaluation_data
            record[name] = (book_cost(weights, biases, data, lmbda, cost)
                            if name.endswith("cost") else book_accuracy(weights, biases, data))
        records.append(record)
    return weights, biases, records
