"""Optimizer registry and hyperparameter validation (messages state the allowed range)."""

import math

import numpy as np
import pytest

from gdviz.core.optimizers import (HYPERPARAMETERS, OPTIMIZERS, OptimizerConfig, get_spec,
                                   make_optimizer, takers)
from gdviz.kernels import optim as K

TORCH_DEFAULT_LR = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3, "rmsprop": 1e-2,
                    "adagrad": 1e-2, "adam": 1e-3, "adamw": 1e-3}


def test_registry_names_and_kinds():
    assert list(OPTIMIZERS) == ["sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam",
                                "adamw"]
    kinds = {n: s.kind for n, s in OPTIMIZERS.items()}
    assert kinds == {"sgd": K.SGD, "momentum": K.SGD, "nesterov": K.SGD,
                     "rmsprop": K.RMSPROP, "adagrad": K.ADAGRAD, "adam": K.ADAM,
                     "adamw": K.ADAMW}
    for spec in OPTIMIZERS.values():
        assert set(spec.defaults) == set(HYPERPARAMETERS)
        assert set(spec.fields) <= set(HYPERPARAMETERS)
        assert "lr" in spec.fields


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_torch_defaults(name):
    c = make_optimizer(name)
    assert c.lr == TORCH_DEFAULT_LR[name]
    assert c == OptimizerConfig(name)
    assert list(c.to_dict()) == list(OPTIMIZERS[name].fields)


def test_preset_defaults():
    assert make_optimizer("sgd").momentum == 0.0
    m = make_optimizer("momentum")
    assert (m.momentum, m.dampening, m.nesterov) == (0.9, 0.0, False)
    n = make_optimizer("nesterov")
    assert (n.momentum, n.dampening, n.nesterov) == (0.9, 0.0, True)
    r = make_optimizer("rmsprop")
    assert (r.alpha, r.eps, r.momentum, r.centered, r.weight_decay) == (0.99, 1e-8, 0.0, False, 0.0)
    a = make_optimizer("adagrad")
    assert (a.lr_decay, a.initial_accumulator_value, a.eps) == (0.0, 0.0, 1e-10)
    ad = make_optimizer("adam")
    assert (ad.beta1, ad.beta2, ad.eps, ad.weight_decay, ad.amsgrad) == (0.9, 0.999, 1e-8, 0.0, False)
    assert make_optimizer("adamw").weight_decay == 1e-2


def test_overrides_none_means_default_and_dampening_settable():
    c = make_optimizer("momentum", lr=0.1, momentum=None, dampening=0.5)
    assert (c.lr, c.momentum, c.dampening) == (0.1, 0.9, 0.5)


@pytest.mark.parametrize("name, kw, msg", [
    ("sgd", dict(lr=-0.1), r"^Invalid learning rate: -0\.1 \(must be > 0\)$"),
    ("sgd", dict(lr=0.0), r"Invalid learning rate: 0 \(must be > 0\)"),
    ("adam", dict(lr=math.nan), r"Invalid learning rate: nan \(must be > 0\)"),
    ("adam", dict(lr=1e9), r"^Invalid learning rate: 1000000000 \(must be <= 1000\)$"),
    ("adam", dict(lr=math.inf), r"Invalid learning rate: inf \(must be <= 1000\)"),
    ("adam", dict(beta1=1.2), r"^Invalid beta parameter at index 0: 1\.2 \(must be in \[0, 1\)\)$"),
    ("adamw", dict(beta2=1.0), r"Invalid beta parameter at index 1: 1 \(must be in \[0, 1\)\)"),
    ("adam", dict(beta1=-0.1), r"Invalid beta parameter at index 0: -0\.1"),
    ("adam", dict(eps=-1), r"^Invalid epsilon value: -1 \(must be >= 0\)$"),
    ("adagrad", dict(eps=math.inf), r"Invalid epsilon value: inf \(must be finite and >= 0\)"),
    ("momentum", dict(momentum=-0.5), r"^Invalid momentum value: -0\.5 \(must be in \[0, 1\)\)$"),
    ("rmsprop", dict(momentum=1.0), r"Invalid momentum value: 1 \(must be in \[0, 1\)\)"),
    ("momentum", dict(dampening=1.5), r"Invalid dampening value: 1\.5 \(must be in \[0, 1\]\)"),
    ("adam", dict(weight_decay=-1e-2), r"^Invalid weight_decay value: -0\.01 \(must be >= 0\)$"),
    ("rmsprop", dict(alpha=-0.1), r"^Invalid alpha value: -0\.1 \(must be in \[0, 1\)\)$"),
    ("rmsprop", dict(alpha=1.0), r"Invalid alpha value: 1 \(must be in \[0, 1\)\)"),
    ("adagrad", dict(lr_decay=-1), r"^Invalid lr_decay value: -1 \(must be >= 0\)$"),
    ("adagrad", dict(initial_accumulator_value=-0.5),
     r"^Invalid initial_accumulator_value: -0\.5 \(must be >= 0\)$"),
    ("nesterov", dict(momentum=0.0), r"^Nesterov momentum requires a momentum and zero dampening"),
])
def test_validation_messages(name, kw, msg):
    with pytest.raises(ValueError, match=msg):
        make_optimizer(name, **kw)


def test_nesterov_with_dampening_rejected_on_direct_construction():
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero dampening"):
        OptimizerConfig("momentum", nesterov=True, dampening=0.1)


def test_non_number_rejected():
    with pytest.raises(ValueError, match=r"Invalid lr value: 'fast' \(must be a number\)"):
        OptimizerConfig("sgd", lr="fast")


def test_unknown_optimizer_suggests():
    with pytest.raises(ValueError, match=r"^unknown optimizer 'adma'; did you mean 'adam'\?$"):
        make_optimizer("adma")
    with pytest.raises(ValueError, match=r"unknown optimizer 'zzz'; choose from sgd, momentum"):
        OptimizerConfig("zzz")
    with pytest.raises(ValueError, match="unknown optimizer"):
        get_spec(None)


def test_field_that_does_not_apply():
    with pytest.raises(ValueError, match=r"^beta1 does not apply to sgd \(it is a hyperparameter "
                                         r"of adam, adamw\)$"):
        make_optimizer("sgd", beta1=0.5)
    with pytest.raises(ValueError, match="unknown hyperparameter 'betas'"):
        make_optimizer("adam", betas=(0.9, 0.99))
    assert takers("centered") == ["rmsprop"]
    assert takers("momentum") == ["momentum", "nesterov", "rmsprop"]


def test_replace_validates_and_keeps_the_rest():
    c = make_optimizer("adam", lr=0.01, amsgrad=True)
    d = c.replace(lr=0.05, beta1=None)
    assert (d.lr, d.amsgrad, d.beta1) == (0.05, True, 0.9)
    assert c.lr == 0.01  # frozen original
    with pytest.raises(ValueError, match="Invalid learning rate"):
        c.replace(lr=-1)
    with pytest.raises(ValueError, match="unknown hyperparameter 'lrr'; did you mean 'lr'"):
        c.replace(lrr=1)
    with pytest.raises(Exception):
        c.lr = 3  # frozen


def test_pack_column_layout():
    c = make_optimizer("rmsprop", lr=0.02, alpha=0.9, eps=1e-6, momentum=0.5, centered=True,
                       weight_decay=0.1)
    kind, h = c.pack()
    assert kind == K.RMSPROP and h.shape == (K.N_HYPER,) and h.dtype == np.float64
    assert h[K.H_LR] == 0.02 and h[K.H_ALPHA] == 0.9 and h[K.H_EPS] == 1e-6
    assert h[K.H_MOMENTUM] == 0.5 and h[K.H_CENTERED] == 1.0 and h[K.H_WEIGHT_DECAY] == 0.1
    kind, h = make_optimizer("nesterov").pack()
    assert kind == K.SGD and h[K.H_NESTEROV] == 1.0
    kind, h = make_optimizer("adagrad", initial_accumulator_value=0.3, lr_decay=0.01).pack()
    assert h[K.H_INITIAL_ACCUMULATOR_VALUE] == 0.3 and h[K.H_LR_DECAY] == 0.01
    kind, h = make_optimizer("adam", amsgrad=True, beta1=0.8, beta2=0.95).pack()
    assert (h[K.H_AMSGRAD], h[K.H_BETA1], h[K.H_BETA2]) == (1.0, 0.8, 0.95)


def test_describe():
    assert make_optimizer("adam", lr=0.01).describe() == "Adam lr=0.01"
