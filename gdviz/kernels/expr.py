"""Interpreter kernels for compiled expression programs (see :mod:`gdviz.core.expr`).

A program is a postfix (stack) program: ``code`` is int64 (m,), ``consts`` float64 (k,).
Instructions are one int each, except ``OP_CONST idx`` and ``OP_VAR i`` which carry an
operand in the next slot. Binary opcodes ``OP_R*`` take their operands in reverse stack
order; the compiler uses them to evaluate the deeper operand first (Sethi-Ullman order)
so the stack stays shallow, without changing any floating-point result.

Gradients use forward-mode dual numbers: every stack slot holds a value and its two
partial derivatives (d/dx, d/dy). Variable 0 is ``x`` and variable 1 is ``y``; a
one-variable program only ever pushes variable 0.

Domain errors give NaN/inf and never raise (``error_model="numpy"`` in :mod:`._jit`).
Every kernel has a numpy twin that runs the same postfix program vectorised over arrays.
"""

from __future__ import annotations

import math

import numpy as np

from . import register
from ._jit import ijit, jit, pjit, prange

#: slots in the kernels' local stack; the compiler refuses deeper programs
STACK_SIZE = 64

OP_CONST = 0  # operand: index into consts
OP_VAR = 1  # operand: variable index (0 = x, 1 = y)
OP_NEG = 2
OP_ADD = 3
OP_SUB = 4
OP_MUL = 5
OP_DIV = 6
OP_POW = 7
# the same five with their two stack operands swapped (RADD/RMUL only for uniformity)
OP_RADD = 8
OP_RSUB = 9
OP_RMUL = 10
OP_RDIV = 11
OP_RPOW = 12
OP_SIN = 13
OP_COS = 14
OP_TAN = 15
OP_EXP = 16
OP_LOG = 17
OP_SQRT = 18
OP_ABS = 19
OP_TANH = 20
OP_SIGMOID = 21
OP_RELU = 22
N_OPS = 23

#: distance between a binary opcode and its reversed twin
_REV = OP_RADD - OP_ADD

#: function name -> opcode (the expression language's functions, one argument each)
FUNCTIONS = {
    "sin": OP_SIN, "cos": OP_COS, "tan": OP_TAN, "exp": OP_EXP, "log": OP_LOG,
    "sqrt": OP_SQRT, "abs": OP_ABS, "tanh": OP_TANH, "sigmoid": OP_SIGMOID, "relu": OP_RELU,
}
#: binary operator -> opcode (``^`` and ``**`` are both OP_POW)
BINARY = {"+": OP_ADD, "-": OP_SUB, "*": OP_MUL, "/": OP_DIV, "^": OP_POW}


# ----------------------------------------------------------------------------- numba


@jit
def _sigmoid(a):
    # two branches so that exp never overflows
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    z = math.exp(a)
    return z / (1.0 + z)


@jit
def _run_value(code, consts, x, y, v):
    """Value only; ``v`` is a float64 scratch stack of STACK_SIZE slots."""
    sp = 0
    pc = 0
    n = code.shape[0]
    while pc < n:
        op = code[pc]
        pc += 1
        if op == OP_CONST:
            v[sp] = consts[code[pc]]
            pc += 1
            sp += 1
        elif op == OP_VAR:
            v[sp] = x if code[pc] == 0 else y
            pc += 1
            sp += 1
        elif op >= OP_ADD and op <= OP_RPOW:
            sp -= 1
            a = v[sp - 1]
            b = v[sp]
            if op >= OP_RADD:
                a, b = b, a
                op -= _REV
            if op == OP_ADD:
                r = a + b
            elif op == OP_SUB:
                r = a - b
            elif op == OP_MUL:
                r = a * b
            elif op == OP_DIV:
                r = a / b
            else:
                r = a ** b
            v[sp - 1] = r
        else:
            a = v[sp - 1]
            if op == OP_NEG:
                r = -a
            elif op == OP_SIN:
                r = math.sin(a)
            elif op == OP_COS:
                r = math.cos(a)
            elif op == OP_TAN:
                r = math.tan(a)
            elif op == OP_EXP:
                r = math.exp(a)
            elif op == OP_LOG:
                r = math.log(a)
            elif op == OP_SQRT:
                r = math.sqrt(a)
            elif op == OP_ABS:
                r = abs(a)
            elif op == OP_TANH:
                r = math.tanh(a)
            elif op == OP_SIGMOID:
                r = _sigmoid(a)
            else:  # OP_RELU; NaN stays NaN
                r = 0.0 if a <= 0.0 else a
            v[sp - 1] = r
    return v[0]


@jit
def _run_dual(code, consts, x, y, s):
    """Value and both partials; ``s`` is float64 (3, STACK_SIZE) scratch (value, d/dx, d/dy)."""
    v = s[0]
    dx = s[1]
    dy = s[2]
    sp = 0
    pc = 0
    n = code.shape[0]
    while pc < n:
        op = code[pc]
        pc += 1
        if op == OP_CONST:
            v[sp] = consts[code[pc]]
            dx[sp] = 0.0
            dy[sp] = 0.0
            pc += 1
            sp += 1
        elif op == OP_VAR:
            if code[pc] == 0:
                v[sp] = x
                dx[sp] = 1.0
                dy[sp] = 0.0
            else:
                v[sp] = y
                dx[sp] = 0.0
                dy[sp] = 1.0
            pc += 1
            sp += 1
        elif op >= OP_ADD and op <= OP_RPOW:
            sp -= 1
            a = v[sp - 1]
            ax = dx[sp - 1]
            ay = dy[sp - 1]
            b = v[sp]
            bx = dx[sp]
            by = dy[sp]
            if op >= OP_RADD:
                a, b = b, a
                ax, bx = bx, ax
                ay, by = by, ay
                op -= _REV
            if op == OP_ADD:
                r = a + b
                rx = ax + bx
                ry = ay + by
            elif op == OP_SUB:
                r = a - b
                rx = ax - bx
                ry = ay - by
            elif op == OP_MUL:
                r = a * b
                rx = ax * b + a * bx
                ry = ay * b + a * by
            elif op == OP_DIV:
                r = a / b
                rx = (ax - r * bx) / b
                ry = (ay - r * by) / b
            else:
                r = a ** b
                # Each term only where its seed is non-zero, so that x^3 at x<0 (ln x = NaN)
                # and 2^x at any x stay finite: d(a^b) = b a^(b-1) da + a^b ln(a) db.
                rx = 0.0
                ry = 0.0
                if ax != 0.0 or ay != 0.0:
                    t = 0.0 if b == 0.0 else b * a ** (b - 1.0)
                    rx += t * ax
                    ry += t * ay
                if bx != 0.0 or by != 0.0:
                    t = r * math.log(a)
                    rx += t * bx
                    ry += t * by
            v[sp - 1] = r
            dx[sp - 1] = rx
            dy[sp - 1] = ry
        else:
            a = v[sp - 1]
            if op == OP_NEG:
                r = -a
                d = -1.0
            elif op == OP_SIN:
                r = math.sin(a)
                d = math.cos(a)
            elif op == OP_COS:
                r = math.cos(a)
                d = -math.sin(a)
            elif op == OP_TAN:
                r = math.tan(a)
                d = 1.0 + r * r
            elif op == OP_EXP:
                r = math.exp(a)
                d = r
            elif op == OP_LOG:
                r = math.log(a)
                d = 1.0 / a
            elif op == OP_SQRT:
                r = math.sqrt(a)
                d = 0.5 / r
            elif op == OP_ABS:
                r = abs(a)
                d = 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)
            elif op == OP_TANH:
                r = math.tanh(a)
                d = 1.0 - r * r
            elif op == OP_SIGMOID:
                r = _sigmoid(a)
                d = r * (1.0 - r)
            else:  # OP_RELU
                r = 0.0 if a <= 0.0 else a
                d = 1.0 if a > 0.0 else 0.0
            v[sp - 1] = r
            dx[sp - 1] = d * dx[sp - 1]
            dy[sp - 1] = d * dy[sp - 1]
    return v[0], dx[0], dy[0]


@ijit
def program_vg_buf(code, consts, x, y, stack):
    """Like :func:`program_vg` with caller-owned scratch ``stack`` float64 (3, STACK_SIZE).

    Kernels that evaluate many points allocate the stack once per thread and use this.
    """
    return _run_dual(code, consts, x, y, stack)


@ijit
def program_vg(code, consts, x, y):
    """Value and gradient of a program at one point: ``(f, df/dx, df/dy)``, floats.

    code int64 (m,), consts float64 (k,); x, y floats (y is ignored by one-variable
    programs, and their df/dy is 0). Callable from other kernels.
    """
    stack = np.empty((3, STACK_SIZE))
    return _run_dual(code, consts, x, y, stack)


@pjit
def program_eval_points(code, consts, xs, ys, f, gx, gy):
    """Value and gradient at n points, in parallel.

    xs, ys float64 (n,); writes f, gx, gy float64 (n,).
    """
    n = xs.shape[0]
    nchunk = min(n, 64)
    for c in prange(nchunk):
        stack = np.empty((3, STACK_SIZE))
        for i in range(c * n // nchunk, (c + 1) * n // nchunk):
            fv, fx, fy = _run_dual(code, consts, xs[i], ys[i], stack)
            f[i] = fv
            gx[i] = fx
            gy[i] = fy


@pjit
def program_eval_grid(code, consts, x0, x1, y0, y1, out):
    """Values on a grid: out float64 (ny, nx), ``out[j, i] = f(x_i, y_j)``.

    x_i = x0 + i*(x1-x0)/(nx-1), y_j likewise (row j is y); a single column/row sits at x0/y0.
    """
    ny, nx = out.shape
    for j in prange(ny):
        stack = np.empty(STACK_SIZE)
        y = y0 + j * (y1 - y0) / (ny - 1) if ny > 1 else y0
        for i in range(nx):
            x = x0 + i * (x1 - x0) / (nx - 1) if nx > 1 else x0
            out[j, i] = _run_value(code, consts, x, y, stack)


@jit
def program_eval_1d(code, consts, xs, out_f, out_df):
    """One-variable program at n points: xs float64 (n,); writes out_f, out_df float64 (n,)."""
    stack = np.empty((3, STACK_SIZE))
    for i in range(xs.shape[0]):
        fv, fx, _ = _run_dual(code, consts, xs[i], 0.0, stack)
        out_f[i] = fv
        out_df[i] = fx


# ----------------------------------------------------------------------------- numpy twins


def _sigmoid_np(a):
    z = np.exp(-np.abs(a))
    return np.where(a >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))


def program_value_np(code, consts, x, y):
    """Numpy twin of the value-only interpreter: f with the broadcast shape of x and y."""
    with np.errstate(all="ignore"):
        x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        stack = []
        pc = 0
        n = len(code)
        while pc < n:
            op = int(code[pc])
            pc += 1
            if op == OP_CONST:
                stack.append(np.full(x.shape, consts[code[pc]]))
                pc += 1
            elif op == OP_VAR:
                stack.append(x if code[pc] == 0 else y)
                pc += 1
            elif OP_ADD <= op <= OP_RPOW:
                b = stack.pop()
                a = stack.pop()
                if op >= OP_RADD:
                    a, b = b, a
                    op -= _REV
                stack.append(_binary_value(op, a, b))
            else:
                stack.append(_unary_value(op, stack.pop()))
        return np.array(stack[0], dtype=np.float64)


def _binary_value(op, a, b):
    if op == OP_ADD:
        return a + b
    if op == OP_SUB:
        return a - b
    if op == OP_MUL:
        return a * b
    if op == OP_DIV:
        return a / b
    return np.power(a, b)


def _unary_value(op, a):
    if op == OP_NEG:
        return -a
    if op == OP_SIN:
        return np.sin(a)
    if op == OP_COS:
        return np.cos(a)
    if op == OP_TAN:
        return np.tan(a)
    if op == OP_EXP:
        return np.exp(a)
    if op == OP_LOG:
        return np.log(a)
    if op == OP_SQRT:
        return np.sqrt(a)
    if op == OP_ABS:
        return np.abs(a)
    if op == OP_TANH:
        return np.tanh(a)
    if op == OP_SIGMOID:
        return _sigmoid_np(a)
    if op == OP_RELU:
        return np.where(a <= 0.0, 0.0, a)
    raise ValueError(f"bad opcode {op}")


def program_vg_np(code, consts, x, y):
    """Numpy twin of :func:`program_vg`, elementwise: ``(f, dfdx, dfdy)``.

    x, y float64 arrays (broadcast together); returns three float64 arrays of that shape.
    """
    with np.errstate(all="ignore"):
        x, y = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        zero = np.zeros(x.shape)
        one = np.ones(x.shape)
        stack = []
        pc = 0
        n = len(code)
        while pc < n:
            op = int(code[pc])
            pc += 1
            if op == OP_CONST:
                stack.append((np.full(x.shape, consts[code[pc]]), zero, zero))
                pc += 1
            elif op == OP_VAR:
                stack.append((x, one, zero) if code[pc] == 0 else (y, zero, one))
                pc += 1
            elif OP_ADD <= op <= OP_RPOW:
                b, bx, by = stack.pop()
                a, ax, ay = stack.pop()
                if op >= OP_RADD:
                    a, ax, ay, b, bx, by = b, bx, by, a, ax, ay
                    op -= _REV
                if op == OP_ADD:
                    stack.append((a + b, ax + bx, ay + by))
                elif op == OP_SUB:
                    stack.append((a - b, ax - bx, ay - by))
                elif op == OP_MUL:
                    stack.append((a * b, ax * b + a * bx, ay * b + a * by))
                elif op == OP_DIV:
                    r = a / b
                    stack.append((r, (ax - r * bx) / b, (ay - r * by) / b))
                else:
                    r = np.power(a, b)
                    seed_a = (ax != 0.0) | (ay != 0.0)
                    seed_b = (bx != 0.0) | (by != 0.0)
                    ta = np.where(seed_a, np.where(b == 0.0, 0.0, b * np.power(a, b - 1.0)), 0.0)
                    tb = np.where(seed_b, r * np.log(a), 0.0)
                    rx = np.where(seed_a, ta * ax, 0.0) + np.where(seed_b, tb * bx, 0.0)
                    ry = np.where(seed_a, ta * ay, 0.0) + np.where(seed_b, tb * by, 0.0)
                    stack.append((r, rx, ry))
            else:
                a, ax, ay = stack.pop()
                r = _unary_value(op, a)
                if op == OP_NEG:
                    d = -one
                elif op == OP_SIN:
                    d = np.cos(a)
                elif op == OP_COS:
                    d = -np.sin(a)
                elif op == OP_TAN:
                    d = 1.0 + r * r
                elif op == OP_EXP:
                    d = r
                elif op == OP_LOG:
                    d = 1.0 / a
                elif op == OP_SQRT:
                    d = 0.5 / r
                elif op == OP_ABS:
                    d = np.where(a > 0.0, 1.0, np.where(a < 0.0, -1.0, 0.0))
                elif op == OP_TANH:
                    d = 1.0 - r * r
                elif op == OP_SIGMOID:
                    d = r * (1.0 - r)
                else:
                    d = np.where(a > 0.0, 1.0, 0.0)
                stack.append((r, d * ax, d * ay))
        f, fx, fy = stack[0]
        return (np.array(f, dtype=np.float64), np.array(fx, dtype=np.float64),
                np.array(fy, dtype=np.float64))


def program_eval_points_np(code, consts, xs, ys, f, gx, gy):
    """Numpy twin of :func:`program_eval_points` (same signature, writes f, gx, gy)."""
    f[:], gx[:], gy[:] = program_vg_np(code, consts, xs, ys)


def _axis(a0, a1, n):
    i = np.arange(n, dtype=np.float64)
    return a0 + i * (a1 - a0) / (n - 1) if n > 1 else np.full(n, float(a0))


def program_eval_grid_np(code, consts, x0, x1, y0, y1, out):
    """Numpy twin of :func:`program_eval_grid` (same signature, writes out (ny, nx))."""
    ny, nx = out.shape
    out[:] = program_value_np(code, consts, _axis(x0, x1, nx)[None, :], _axis(y0, y1, ny)[:, None])


def program_eval_1d_np(code, consts, xs, out_f, out_df):
    """Numpy twin of :func:`program_eval_1d` (same signature, writes out_f, out_df)."""
    f, fx, _ = program_vg_np(code, consts, xs, 0.0)
    out_f[:] = f
    out_df[:] = fx


# ----------------------------------------------------------------------------- registry

# sin(x)*y^2 + x/y in postfix, reversed ops included, for compiling on tiny inputs
_WARM_CODE = np.array([OP_VAR, 0, OP_SIN, OP_VAR, 1, OP_CONST, 0, OP_POW, OP_MUL,
                       OP_VAR, 1, OP_VAR, 0, OP_RDIV, OP_ADD], dtype=np.int64)
_WARM_CONSTS = np.array([2.0])


def _warm_vg():
    program_vg_scalar(_WARM_CODE, _WARM_CONSTS, 0.5, 1.5)


@jit
def program_vg_scalar(code, consts, x, y):
    """Non-inlined entry point to :func:`program_vg` for calls from Python."""
    return program_vg(code, consts, x, y)


def _warm_points():
    xs = np.linspace(-1.0, 1.0, 4)
    f, gx, gy = np.empty(4), np.empty(4), np.empty(4)
    program_eval_points(_WARM_CODE, _WARM_CONSTS, xs, xs + 2.0, f, gx, gy)


def _warm_grid():
    program_eval_grid(_WARM_CODE, _WARM_CONSTS, -1.0, 1.0, 1.0, 2.0, np.empty((3, 4)))


def _warm_1d():
    xs = np.linspace(-1.0, 1.0, 4)
    program_eval_1d(_WARM_CODE, _WARM_CONSTS, xs, np.empty(4), np.empty(4))


def _vg_twin(code, consts, x, y):
    f, fx, fy = program_vg_np(code, consts, x, y)
    return float(f), float(fx), float(fy)


register("expr-vg", program_vg_scalar, _vg_twin, _warm_vg)
register("expr-points", program_eval_points, program_eval_points_np, _warm_points)
register("expr-grid", program_eval_grid, program_eval_grid_np, _warm_grid)
register("expr-1d", program_eval_1d, program_eval_1d_np, _warm_1d)
