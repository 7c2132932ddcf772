"""numba is loaded at the first kernel call, not at import; then every stand-in in every
loaded gdviz module is the real dispatcher, including names imported from other modules."""

import subprocess
import sys

CODE = """
import sys
import numpy as np
import gdviz.kernels.datastep as ds
import gdviz.kernels.models as km
from gdviz.kernels._jit import LazyKernel
assert "numba" not in sys.modules
assert isinstance(km._loss_grad_run, LazyKernel) and ds._loss_grad_run is km._loss_grad_run
x = np.linspace(-1, 1, 5); y = x.copy(); idx = np.arange(5, dtype=np.int64)
L = np.empty(1); G = np.empty((1, 2))
km.loss_grad(km.LINEAR, 0, 0, km.MSE, np.array([[0.5, 0.0]]), x, y, idx, L, G)
L2 = np.empty(1); G2 = np.empty((1, 2))
km.loss_grad_np(km.LINEAR, 0, 0, km.MSE, np.array([[0.5, 0.0]]), x, y, idx, L2, G2)
assert np.allclose(L, L2) and np.allclose(G, G2)
import numba
from numba.core.registry import CPUDispatcher
assert isinstance(km._loss_grad_run, CPUDispatcher)
assert ds._loss_grad_run is km._loss_grad_run  # swapped in the importing module too
assert ds.prange is numba.prange
from gdviz import kernels
kernels.load_all()
assert not any(isinstance(s.fast, LazyKernel) for s in kernels.REGISTRY.values())
print("ok")
"""


def test_numba_loads_at_the_first_kernel_call():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
