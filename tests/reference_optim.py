"""Plain-numpy transcriptions of torch.optim's documented algorithms: the test oracles.

One run, one step at a time, written to be read beside the torch.optim docs
(SGD, RMSprop, Adagrad, Adam, AdamW). No gdviz code is imported here. Each class
takes torch's constructor arguments and has ``step(theta, grad) -> theta`` with
``theta`` and ``grad`` float64 arrays of shape (p,).
"""

from __future__ import annotations

import math

import numpy as np


class SGD:
    def __init__(self, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.buf = None  # torch's state["momentum_buffer"]
        self.t = 0

    def step(self, theta, grad):
        self.t += 1
        g = grad + self.weight_decay * theta
        if self.momentum != 0:
            if self.buf is None:
                self.buf = g.copy()
            else:
                self.buf = self.momentum * self.buf + (1.0 - self.dampening) * g
            if self.nesterov:
                g = g + self.momentum * self.buf
            else:
                g = self.buf
        return theta - self.lr * g


class RMSprop:
    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.weight_decay, self.momentum, self.centered = weight_decay, momentum, centered
        self.v = None  # square_avg
        self.buf = None  # momentum_buffer
        self.g_ave = None  # grad_avg
        self.t = 0

    def step(self, theta, grad):
        self.t += 1
        if self.v is None:
            self.v = np.zeros_like(theta)
            self.buf = np.zeros_like(theta)
            self.g_ave = np.zeros_like(theta)
        g = grad + self.weight_decay * theta
        self.v = self.alpha * self.v + (1.0 - self.alpha) * g * g
        v_tilde = self.v
        if self.centered:
            self.g_ave = self.alpha * self.g_ave + (1.0 - self.alpha) * g
            v_tilde = self.v - self.g_ave * self.g_ave
        denom = np.sqrt(v_tilde) + self.eps
        if self.momentum > 0:
            self.buf = self.momentum * self.buf + g / denom
            return theta - self.lr * self.buf
        return theta - self.lr * (g / denom)


class Adagrad:
    def __init__(self, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
        self.lr, self.lr_decay, self.weight_decay, self.eps = lr, lr_decay, weight_decay, eps
        self.init = initial_accumulator_value
        self.sum = None
        self.t = 0

    def step(self, theta, grad):
        self.t += 1
        if self.sum is None:
            self.sum = np.full_like(theta, self.init)
        clr = self.lr / (1.0 + (self.t - 1) * self.lr_decay)
        g = grad + self.weight_decay * theta
        self.sum = self.sum + g * g
        return theta - clr * (g / (np.sqrt(self.sum) + self.eps))


class Adam:
    decoupled = False

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        self.lr, self.betas, self.eps = lr, betas, eps
        self.weight_decay, self.amsgrad = weight_decay, amsgrad
        self.m = self.v = self.vmax = None
        self.t = 0

    def step(self, theta, grad):
        self.t += 1
        beta1, beta2 = self.betas
        if self.m is None:
            self.m = np.zeros_like(theta)
            self.v = np.zeros_like(theta)
            self.vmax = np.zeros_like(theta)
        g = grad
        if self.decoupled:  # AdamW: theta <- theta - lr * lambda * theta
            theta = theta - self.lr * self.weight_decay * theta
        else:
            g = g + self.weight_decay * theta
        self.m = beta1 * self.m + (1.0 - beta1) * g
        self.v = beta2 * self.v + (1.0 - beta2) * g * g
        m_hat = self.m / (1.0 - beta1 ** float(self.t))
        if self.amsgrad:
            self.vmax = np.maximum(self.vmax, self.v)
            v_hat = self.vmax / (1.0 - beta2 ** float(self.t))
        else:
            v_hat = self.v / (1.0 - beta2 ** float(self.t))
        return theta - self.lr * (m_hat / (np.sqrt(v_hat) + self.eps))


class AdamW(Adam):
    decoupled = True

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(lr, betas, eps, weight_decay, amsgrad)


def make(name: str, **hp):
    """A reference optimizer from gdviz's preset name and hyperparameters (gdviz names:
    beta1/beta2 become torch's betas)."""
    hp = dict(hp)
    if "beta1" in hp or "beta2" in hp:
        hp["betas"] = (hp.pop("beta1", 0.9), hp.pop("beta2", 0.999))
    if name == "sgd":
        return SGD(**hp)
    if name == "momentum":
        return SGD(**{"momentum": 0.9, **hp})
    if name == "nesterov":
        return SGD(**{"momentum": 0.9, "nesterov": True, **hp})
    return {"rmsprop": RMSprop, "adagrad": Adagrad, "adam": Adam, "adamw": AdamW}[name](**hp)


# --- the two test surfaces, plain numpy -----------------------------------------------------

def quadratic_vg(x, y):
    return x * x + y * y, 2.0 * x, 2.0 * y


def rosenbrock_vg(x, y):
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * b * b, -2.0 * a - 400.0 * x * b, 200.0 * b


def trajectory(opt, vg, start, steps):
    """Rows 0..steps of (x, y) and the loss there: float64 (steps+1, 2), (steps+1,)."""
    theta = np.array(start, dtype=np.float64)
    P = [theta.copy()]
    f, gx, gy = vg(theta[0], theta[1])
    L = [f]
    for _ in range(steps):
        theta = opt.step(theta, np.array([gx, gy]))
        f, gx, gy = vg(theta[0], theta[1])
        if not all(math.isfinite(v) for v in (theta[0], theta[1], f)):
            break
        P.append(theta.copy())
        L.append(f)
    return np.array(P), np.array(L)
