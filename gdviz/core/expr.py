"""Safe expression language for custom functions, e.g. ``sin(x)*cos(y) + 0.1*(x^2+y^2)``.

Grammar (lowest to highest precedence)::

    sum     := product (('+' | '-') product)*            left-associative
    product := unary (('*' | '/') unary)*                left-associative
    unary   := ('-' | '+') unary | power                 so -x^2 = -(x^2), 2*-3 = -6
    power   := atom (('^' | '**') unary)?                right-associative: 2^3^2 = 2^9
    atom    := number | variable | 'pi' | 'e' | function '(' sum ')' | '(' sum ')'

Numbers are ``12``, ``1.5``, ``.5``, ``1e-3``. Functions take one argument each:
sin cos tan exp log sqrt abs tanh sigmoid relu. Implicit multiplication (``2x``) is an
error. The text is read by a hand-written tokenizer and a Pratt parser: nothing the user
types ever reaches ``eval``, ``exec``, ``compile`` or ``ast``, and no Python name is
reachable. Scene files carry expressions written by other people, so this matters.

Errors are :class:`ExprError` (a ``ValueError``) with a one-line message naming the
problem and its 1-based column, e.g. ``unknown name 'z' at column 5``.

:func:`compile_expr` turns the tree into a postfix stack program (int64 ``code`` and
float64 ``consts``) that the kernels in :mod:`gdviz.kernels.expr` interpret, with exact
gradients by forward-mode dual numbers. Domain errors (``log(-1)``, ``1/0``) give NaN or
inf where they occur and never raise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Union

import numpy as np

from gdviz import kernels as _kernels
from gdviz.kernels import expr as _k
from gdviz.kernels.expr import FUNCTIONS, STACK_SIZE
from gdviz.core.userinput import quote

#: longest accepted expression, in characters
MAX_LENGTH = 2000
#: deepest accepted nesting (parentheses, unary signs, powers, function calls)
MAX_DEPTH = 200

CONSTANTS = {"pi": math.pi, "e": math.e}

_DIGITS = frozenset("0123456789")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | _DIGITS
_SPACE = frozenset(" \t\r\n")
_SINGLE = {"+": "op", "-": "op", "/": "op", "^": "op", "(": "(", ")": ")", ",": ","}
# characters a teacher may paste from a document, and what to type instead
_HINTS = {"−": "use '-'", "×": "use '*'", "·": "use '*'", "÷": "use '/'",
          "²": "write ^2", "³": "write ^3", "π": "write pi"}


class ExprError(ValueError):
    """A malformed expression. ``column`` is the 1-based column of the problem."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.column = column


# ----------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Num:
    """A number literal (never negative: ``-2`` is ``Neg(Num(2))``)."""
    value: float
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Const:
    """A named constant: ``pi`` or ``e``."""
    name: str
    value: float
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Var:
    """A variable; ``index`` is its position in the program's ``variables``."""
    name: str
    index: int
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Neg:
    """Unary minus (unary plus leaves no node)."""
    operand: "Node"
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    """``op`` is one of ``+ - * / ^`` (``**`` is stored as ``^``)."""
    op: str
    left: "Node"
    right: "Node"
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A one-argument function, ``func`` in :data:`gdviz.kernels.expr.FUNCTIONS`."""
    func: str
    arg: "Node"
    column: int = field(default=0, compare=False)


Node = Union[Num, Const, Var, Neg, Binary, Call]


def _children(node) -> tuple:
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Neg):
        return (node.operand,)
    if isinstance(node, Call):
        return (node.arg,)
    return ()


def _postorder(root) -> list:
    """Nodes children-first. Iterative: a sum of 1000 terms is 1000 levels deep."""
    out = []
    todo = [(root, False)]
    while todo:
        node, expanded = todo.pop()
        if expanded:
            out.append(node)
        else:
            todo.append((node, True))
            todo.extend((c, False) for c in reversed(_children(node)))
    return out


# ----------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class _Tok:
    kind: str  # "num", "name", "op", "(", ")", ",", "end"
    text: str
    column: int
    value: float = 0.0


def _show(ch: str) -> str:
    return ch if ch.isprintable() else ascii(ch)[1:-1]


def _tokenize(text: str) -> list[_Tok]:
    toks = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        col = i + 1
        if ch in _SPACE:
            i += 1
        elif ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            j = i
            while j < n and text[j] in _DIGITS:
                j += 1
            if j < n and text[j] == ".":
                j += 1
                while j < n and text[j] in _DIGITS:
                    j += 1
            # an exponent only if digits follow; otherwise "2e" is 2 then the name e
            if j < n and text[j] in "eE":
                k = j + 1
                if k < n and text[k] in "+-":
                    k += 1
                if k < n and text[k] in _DIGITS:
                    while k < n and text[k] in _DIGITS:
                        k += 1
                    j = k
            if j < n and text[j] == ".":
                k = j
                while k < n and (text[k] in _DIGITS or text[k] == "."):
                    k += 1
                raise ExprError(f"malformed number '{quote(text[i:k])}' at column {col}", col)
            lit = text[i:j]
            value = float(lit)  # lit is digits, '.', e and a sign: nothing else to parse
            if not math.isfinite(value):
                raise ExprError(f"number too large '{quote(lit)}' at column {col}", col)
            toks.append(_Tok("num", lit, col, value))
            i = j
        elif ch in _NAME_START:
            j = i + 1
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            toks.append(_Tok("name", text[i:j], col))
            i = j
        elif ch == "*":
            if i + 1 < n and text[i + 1] == "*":
                toks.append(_Tok("op", "**", col))
                i += 2
            else:
                toks.append(_Tok("op", "*", col))
                i += 1
        elif ch in _SINGLE:
            toks.append(_Tok(_SINGLE[ch], ch, col))
            i += 1
        else:
            hint = f" ({_HINTS[ch]})" if ch in _HINTS else ""
            raise ExprError(f"unexpected character '{_show(ch)}' at column {col}{hint}", col)
    toks.append(_Tok("end", "", n + 1))
    return toks


# ----------------------------------------------------------------------------- parser

# binding powers of the Pratt parser
_LBP = {"+": 10, "-": 10, "*": 20, "/": 20, "^": 30, "**": 30}
_UNARY_BP = 25  # tighter than * and /, looser than ^ (so -x^2 = -(x^2))
_POW_RBP = 29  # one below ^ itself: right-associative


def _check_variables(variables) -> tuple[str, ...]:
    variables = tuple(variables)
    if not 1 <= len(variables) <= 2:
        raise ValueError(f"expressions take 1 or 2 variables, got {len(variables)}")
    for name in variables:
        if (not isinstance(name, str) or not name or name[0] not in _NAME_START
                or any(c not in _NAME_CHARS for c in name)):
            raise ValueError(f"invalid variable name {name!r}")
        if name in FUNCTIONS or name in CONSTANTS:
            raise ValueError(f"invalid variable name {name!r} (it is a function or constant)")
    if len(set(variables)) != len(variables):
        raise ValueError(f"duplicate variable names in {variables!r}")
    return variables


class _Parser:
    def __init__(self, toks: list[_Tok], variables: tuple[str, ...]):
        self.toks = toks
        self.pos = 0
        self.variables = variables

    def peek(self) -> _Tok:
        return self.toks[self.pos]

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def _missing_operand(self, tok: _Tok):
        prev = self.toks[self.pos - 2] if self.pos >= 2 else None
        if prev is not None and prev.kind in ("op", "("):
            raise ExprError(f"expected an expression after '{quote(prev.text)}' at column {prev.column}",
                            prev.column)
        if tok.kind == "end":
            raise ExprError("empty expression", 1)
        raise ExprError(f"unexpected '{quote(tok.text)}' at column {tok.column}", tok.column)

    def _close(self, opener: _Tok, func: str | None = None):
        tok = self.take()
        if tok.kind == ")":
            return
        if tok.kind == "end":
            raise ExprError(f"missing ')' for '(' at column {opener.column}", opener.column)
        if tok.kind == "," and func is not None:
            raise ExprError(f"'{func}' takes one argument; unexpected ',' at column {tok.column}",
                            tok.column)
        raise ExprError(f"unexpected '{quote(tok.text)}' at column {tok.column}", tok.column)

    def parse(self, rbp: int, depth: int):
        """One recursion per nesting level (nud inlined) so MAX_DEPTH stays far from
        Python's recursion limit."""
        tok = self.take()
        if depth > MAX_DEPTH:
            raise ExprError(f"expression is nested too deeply (more than {MAX_DEPTH} levels) "
                            f"at column {tok.column}", tok.column)
        # --- prefix position
        if tok.kind == "num":
            left = Num(tok.value, tok.column)
        elif tok.kind == "name":
            left = self._name(tok, depth)
        elif tok.kind == "(":
            left = self.parse(0, depth + 1)
            self._close(tok)
        elif tok.kind == "op" and tok.text in ("-", "+"):
            operand = self.parse(_UNARY_BP, depth + 1)
            left = Neg(operand, tok.column) if tok.text == "-" else operand
        else:
            self._missing_operand(tok)
        # --- infix position
        while True:
            tok = self.peek()
            if tok.kind in ("num", "name", "("):
                raise ExprError(f"implicit multiplication is not allowed; write '*' before "
                                f"'{quote(tok.text)}' at column {tok.column}", tok.column)
            if tok.kind != "op" or _LBP[tok.text] <= rbp:
                return left
            self.take()
            if tok.text in ("^", "**"):
                right = self.parse(_POW_RBP, depth + 1)
                left = Binary("^", left, right, tok.column)
            else:
                # Left-associative: the right operand returns before the next + or -, so
                # long sums do not nest the parser; not counted as a level, since at most
                # two such frames sit between counted ones (parentheses, signs, powers).
                right = self.parse(_LBP[tok.text], depth)
                left = Binary(tok.text, left, right, tok.column)

    def _name(self, tok: _Tok, depth: int):
        name = tok.text
        nxt = self.peek()
        if name in FUNCTIONS:
            if nxt.kind != "(" or self.toks[self.pos + 1].kind == ")":
                raise ExprError(f"'{name}' needs one argument in parentheses at column "
                                f"{tok.column}", tok.column)
            opener = self.take()
            arg = self.parse(0, depth + 1)
            self._close(opener, name)
            return Call(name, arg, tok.column)
        if name in self.variables:
            return Var(name, self.variables.index(name), tok.column)
        if name in CONSTANTS:
            return Const(name, CONSTANTS[name], tok.column)
        if nxt.kind == "(":
            raise ExprError(f"unknown function '{quote(name)}' at column {tok.column}", tok.column)
        raise ExprError(f"unknown name '{quote(name)}' at column {tok.column}", tok.column)


def parse(text: str, variables=("x", "y")) -> Node:
    """Parse ``text`` into a tree of :data:`Node` s; ``variables`` are the allowed names.

    Raises :class:`ExprError` (a ``ValueError``) with a one-line message and ``.column``.
    """
    if not isinstance(text, str):
        raise ExprError(f"an expression must be text, not {type(text).__name__}", 1)
    variables = _check_variables(variables)
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is too long ({len(text)} characters; at most {MAX_LENGTH})",
                        MAX_LENGTH + 1)
    toks = _tokenize(text)
    if len(toks) == 1:
        raise ExprError("empty expression", 1)
    parser = _Parser(toks, variables)
    try:
        tree = parser.parse(0, 1)
    except RecursionError:  # only if the caller is already deep in the stack
        raise ExprError("expression is nested too deeply", 1) from None
    tok = parser.peek()
    if tok.kind != "end":
        raise ExprError(f"unexpected '{quote(tok.text)}' at column {tok.column}", tok.column)
    return tree


# ----------------------------------------------------------------------------- pretty


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def _fmt_number(v: float) -> str:
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def pretty(tree: Node) -> str:
    """Normalized text of a tree: minimal parentheses, spaces around + and -, ``^`` for power.

    ``parse(pretty(t))`` gives back the same tree.
    """
    done: dict[int, tuple[str, int]] = {}  # id(node) -> (text, precedence)

    def wrap(node, min_prec):
        s, p = done[id(node)]
        return s if p >= min_prec else f"({s})"

    for node in _postorder(tree):
        if isinstance(node, Num):
            done[id(node)] = (_fmt_number(node.value), 5)
        elif isinstance(node, (Const, Var)):
            done[id(node)] = (node.name, 5)
        elif isinstance(node, Call):
            done[id(node)] = (f"{node.func}({done[id(node.arg)][0]})", 5)
        elif isinstance(node, Neg):
            done[id(node)] = ("-" + wrap(node.operand, 4), 3)
        else:
            op = node.op
            p = _PREC[op]
            if op == "^":
                s = f"{wrap(node.left, 5)}^{wrap(node.right, 3)}"
            elif p == 1:
                s = f"{wrap(node.left, 1)} {op} {wrap(node.right, 2)}"
            else:
                s = f"{wrap(node.left, 2)}{op}{wrap(node.right, 3)}"
            done[id(node)] = (s, p)
    return done[id(tree)][0]


# ----------------------------------------------------------------------------- compiler


def stack_depth(code: np.ndarray) -> int:
    """Largest number of stack slots the postfix program ``code`` int64 (m,) uses."""
    sp = top = 0
    pc = 0
    while pc < len(code):
        op = int(code[pc])
        if op in (_k.OP_CONST, _k.OP_VAR):
            sp += 1
            pc += 2
        else:
            if _k.OP_ADD <= op <= _k.OP_RPOW:
                sp -= 1
            pc += 1
        top = max(top, sp)
    return top


def _emit(tree: Node) -> tuple[np.ndarray, np.ndarray]:
    # Sethi-Ullman: evaluate the operand that needs more stack first (a reversed opcode
    # keeps the result bit-identical), so a tree of n leaves needs ~log2(n) slots.
    need: dict[int, int] = {}
    for node in _postorder(tree):
        kids = _children(node)
        if not kids:
            need[id(node)] = 1
        elif len(kids) == 1:
            need[id(node)] = need[id(kids[0])]
        else:
            a, b = need[id(kids[0])], need[id(kids[1])]
            need[id(node)] = max(a, b) if a != b else a + 1

    code: list[int] = []
    consts: list[float] = []
    const_index: dict[float, int] = {}
    todo: list = [tree]
    while todo:
        item = todo.pop()
        if isinstance(item, int):
            code.append(item)
        elif isinstance(item, (Num, Const)):
            v = float(item.value)
            if v not in const_index:
                const_index[v] = len(consts)
                consts.append(v)
            code += [_k.OP_CONST, const_index[v]]
        elif isinstance(item, Var):
            code += [_k.OP_VAR, item.index]
        elif isinstance(item, Neg):
            todo += [_k.OP_NEG, item.operand]
        elif isinstance(item, Call):
            todo += [FUNCTIONS[item.func], item.arg]
        else:
            op = _k.BINARY[item.op]
            if need[id(item.right)] > need[id(item.left)]:
                todo += [op + (_k.OP_RADD - _k.OP_ADD), item.left, item.right]
            else:
                todo += [op, item.right, item.left]
    return (np.ascontiguousarray(code, dtype=np.int64),
            np.ascontiguousarray(consts, dtype=np.float64))


def _resolve_fast(fast: bool | None) -> bool:
    return _kernels.is_ready() if fast is None else bool(fast)


def _flat(a) -> np.ndarray:
    return np.ascontiguousarray(np.ravel(a), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Program:
    """A compiled expression. Immutable by convention: do not write into ``code``/``consts``.

    ``code`` int64 (m,) and ``consts`` float64 (k,) are C-contiguous and go straight into
    the kernels of :mod:`gdviz.kernels.expr`. ``variables`` are the names in kernel order
    (variable 0 is the kernels' ``x``, variable 1 their ``y``).

    Methods take ``fast``: True runs the numba kernels, False the numpy twins, None means
    "numba if :func:`gdviz.kernels.is_ready` else numpy".
    """
    text: str
    variables: tuple[str, ...]
    tree: Node = field(repr=False)
    code: np.ndarray = field(repr=False)
    consts: np.ndarray = field(repr=False)
    stack_depth: int = field(default=0, repr=False)

    def __eq__(self, other):
        if not isinstance(other, Program):
            return NotImplemented
        return (self.text, self.variables) == (other.text, other.variables)

    def __hash__(self):
        return hash((self.text, self.variables))

    @property
    def n_vars(self) -> int:
        return len(self.variables)

    def pretty(self) -> str:
        """Normalized display text, e.g. ``sin(x)*cos(y) + 0.1*(x^2 + y^2)``."""
        return pretty(self.tree)

    def _points(self, x, y, fast):
        """(f, gx, gy) float64 of the broadcast shape of x and y."""
        if self.n_vars == 2:
            if y is None:
                raise ValueError(f"expression in {', '.join(self.variables)} needs y as well")
        elif y is not None:
            raise ValueError(f"expression in {self.variables[0]} takes one variable; got y")
        else:
            y = 0.0
        xb, yb = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(y, np.float64))
        shape = xb.shape
        xs, ys = _flat(xb), _flat(yb)
        if _resolve_fast(fast):
            f, gx, gy = np.empty(xs.size), np.empty(xs.size), np.empty(xs.size)
            _k.program_eval_points(self.code, self.consts, xs, ys, f, gx, gy)
        else:
            f, gx, gy = _k.program_vg_np(self.code, self.consts, xs, ys)
        return f.reshape(shape), gx.reshape(shape), gy.reshape(shape)

    def eval(self, x, y=None, *, fast: bool | None = None):
        """f at points: x (and y for two-variable programs) floats or arrays, broadcast.

        Returns float64 of the broadcast shape (a float for scalar inputs).
        """
        f = self._points(x, y, fast)[0]
        return float(f) if f.ndim == 0 else f

    def value_grad(self, x, y=None, *, fast: bool | None = None):
        """``(f, g)``: f float64 (*shape), g float64 (*shape, n_vars) with g[..., i] = df/dvar_i."""
        f, gx, gy = self._points(x, y, fast)
        g = np.stack([gx, gy][: self.n_vars], axis=-1)
        return f, g

    def grad(self, x, y=None, *, fast: bool | None = None) -> np.ndarray:
        """Gradient float64 (*shape, n_vars) at the broadcast points."""
        return self.value_grad(x, y, fast=fast)[1]

    def eval1d(self, x, *, fast: bool | None = None) -> np.ndarray:
        """f of a one-variable program at x float64 (n,) -> float64 (n,)."""
        return self.eval1d_grad(x, fast=fast)[0]

    def eval1d_grad(self, x, *, fast: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(f, df/dx)`` of a one-variable program at x float64 (n,), each float64 (n,)."""
        if self.n_vars != 1:
            raise ValueError(f"eval1d needs an expression in one variable, not "
                             f"{', '.join(self.variables)}")
        xb = np.asarray(x, np.float64)
        xs = _flat(xb)
        f, df = np.empty(xs.size), np.empty(xs.size)
        kern = _k.program_eval_1d if _resolve_fast(fast) else _k.program_eval_1d_np
        kern(self.code, self.consts, xs, f, df)
        return f.reshape(xb.shape), df.reshape(xb.shape)

    def grid(self, x0: float, x1: float, y0: float, y1: float, nx: int, ny: int, *,
             fast: bool | None = None) -> np.ndarray:
        """Values on a grid, float64 (ny, nx), row j is y (see program_eval_grid)."""
        out = np.empty((int(ny), int(nx)))
        kern = _k.program_eval_grid if _resolve_fast(fast) else _k.program_eval_grid_np
        kern(self.code, self.consts, float(x0), float(x1), float(y0), float(y1), out)
        return out


def compile_expr(text: str, variables=("x", "y")) -> Program:
    """Parse and compile ``text`` into a :class:`Program` over ``variables`` (1 or 2 names).

    Raises :class:`ExprError` for a malformed expression, or one whose stack program would
    not fit the kernels' stack of :data:`gdviz.kernels.expr.STACK_SIZE` slots.
    """
    variables = _check_variables(variables)
    tree = parse(text, variables)
    code, consts = _emit(tree)
    depth = stack_depth(code)
    if depth > STACK_SIZE:
        raise ExprError(f"expression is too complex to evaluate ({depth} stack slots needed; "
                        f"at most {STACK_SIZE})", 1)
    return Program(text, variables, tree, code, consts, depth)
