"""Independent references the parity suite compares nnxp against (NumPy, float64, host only).

    network2_sgd(weights, biases, X, Y, order, m, eta, lmbda, n)   network2's per-example loop
    finite_difference_grads(loss, params, eps)                     central differences

Written from the book's equations, deliberately unlike nnxp's code: column vectors, one example
at a time, the naive sigmoid, network2's literal update rule.
"""

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def network2_backprop(weights, biases, x, y):
    """network2.Network.backprop for one column-vector example, cross-entropy cost."""
    activation, activations, zs = x, [x], []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = _sigmoid(z)
        activations.append(activation)
    delta = activations[-1] - y  # CrossEntropyCost.delta
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
