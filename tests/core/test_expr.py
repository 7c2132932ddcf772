"""The expression language: grammar, precedence, error messages, safety, Program API.

Numeric checks here use the numpy twins (fast=False); tests/kernels/test_expr_kernel.py
compares the numba kernels with them.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gdviz.core.expr as core_expr
from gdviz.core.expr import (
    MAX_DEPTH,
    MAX_LENGTH,
    Binary,
    Call,
    Const,
    ExprError,
    Neg,
    Num,
    Program,
    Var,
    compile_expr,
    parse,
    pretty,
    stack_depth,
)


def value(text, x=0.0, y=0.0):
    return compile_expr(text).eval(x, y, fast=False)


# ----------------------------------------------------------------------------- grammar


@pytest.mark.parametrize("text, x, y, expected", [
    ("x^2 + 10*y^2", 1.5, -2.0, 1.5**2 + 10 * 4.0),
    ("sin(x)*cos(y) + 0.1*(x**2+y**2)", 0.3, -0.7,
     math.sin(0.3) * math.cos(-0.7) + 0.1 * (0.09 + 0.49)),
    ("2^3^2", 0, 0, 512.0),
    ("2**3**2", 0, 0, 512.0),
    ("-2^2", 0, 0, -4.0),
    ("-x^2", 3.0, 0, -9.0),
    ("2*-3", 0, 0, -6.0),
    ("2^-1", 0, 0, 0.5),
    ("2^-3*4", 0, 0, 0.5),
    ("-2*3", 0, 0, -6.0),
    ("+x", 2.0, 0, 2.0),
    ("--x", 2.0, 0, 2.0),
    ("1 - 2 - 3", 0, 0, -4.0),
    ("8 / 4 / 2", 0, 0, 1.0),
    ("1 + 2*3", 0, 0, 7.0),
    ("(1 + 2)*3", 0, 0, 9.0),
    ("x - -y", 1.0, 2.0, 3.0),
    ("2^x^2", 1.5, 0, 2.0 ** (1.5**2)),
    ("x^-y^2", 2.0, 1.0, 0.5),
    ("12 + 1.5 + .5 + 1e-3 + 2E+2 + 1.e1", 0, 0, 12 + 1.5 + 0.5 + 1e-3 + 200 + 10),
    ("pi + e", 0, 0, math.pi + math.e),
    ("exp(log(x)) + sqrt(4) + abs(-y)", 2.0, -3.0, 2.0 + 2.0 + 3.0),
    ("tan(x) + tanh(y)", 0.4, 0.6, math.tan(0.4) + math.tanh(0.6)),
    ("sigmoid(x) + relu(y) + relu(-y)", 0.0, 2.5, 0.5 + 2.5),
    ("  x\t*\n y ", 2.0, 3.0, 6.0),
    ("x^3", -2.0, 0, -8.0),
])
def test_values(text, x, y, expected):
    assert value(text, x, y) == pytest.approx(expected, rel=1e-14)


def test_tree_shape_of_precedence():
    x, y = Var("x", 0), Var("y", 1)
    assert parse("-x^2") == Neg(Binary("^", x, Num(2.0)))
    assert parse("2^3^2") == Binary("^", Num(2.0), Binary("^", Num(3.0), Num(2.0)))
    assert parse("x - y - 1") == Binary("-", Binary("-", x, y), Num(1.0))
    assert parse("x**y") == Binary("^", x, y)
    assert parse("sin(pi)") == Call("sin", Const("pi", math.pi))
    assert parse("+x") == x


def test_columns_are_recorded():
    tree = parse("x + sin(y)")
    assert tree.column == 3
    assert tree.right.column == 5
    assert tree.right.arg.column == 9


@pytest.mark.parametrize("text, expected", [
    ("x^2 + 10*y^2", "x^2 + 10*y^2"),
    ("sin(x)*cos(y) + 0.1*(x**2+y**2)", "sin(x)*cos(y) + 0.1*(x^2 + y^2)"),
    ("--x", "-(-x)"),
    ("(-x)^2", "(-x)^2"),
    ("(x^2)^3", "(x^2)^3"),
    ("x - (y - 1)", "x - (y - 1)"),
    ("x / (y * 2)", "x/(y*2)"),
    ("1e-3*x", "0.001*x"),
    ("((x))", "x"),
])
def test_pretty(text, expected):
    assert compile_expr(text).pretty() == expected
    assert parse(expected) == parse(text)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("text, message, column", [
    ("x + z", r"^unknown name 'z' at column 5$", 5),
    ("(x + y))", r"^unexpected '\)' at column 8$", 8),
    ("x + y)", r"^unexpected '\)' at column 6$", 6),
    ("x*(y + 1", r"^missing '\)' for '\(' at column 3$", 3),
    ("sin(x", r"^missing '\)' for '\(' at column 4$", 4),
    ("sinh(x)", r"^unknown function 'sinh' at column 1$", 1),
    ("", r"^empty expression$", 1),
    ("   ", r"^empty expression$", 1),
    ("2*x +", r"^expected an expression after '\+' at column 5$", 5),
    ("x + * y", r"^expected an expression after '\+' at column 3$", 3),
    ("x ^", r"^expected an expression after '\^' at column 3$", 3),
    ("-", r"^expected an expression after '-' at column 1$", 1),
    ("()", r"^expected an expression after '\(' at column 1$", 1),
    ("* x", r"^unexpected '\*' at column 1$", 1),
    (")", r"^unexpected '\)' at column 1$", 1),
    ("sin x", r"^'sin' needs one argument in parentheses at column 1$", 1),
    ("x + sin", r"^'sin' needs one argument in parentheses at column 5$", 5),
    ("cos()", r"^'cos' needs one argument in parentheses at column 1$", 1),
    ("sin(x, y)", r"^'sin' takes one argument; unexpected ',' at column 6$", 6),
    ("x, y", r"^unexpected ',' at column 2$", 2),
    ("2x", r"^implicit multiplication is not allowed; write '\*' before 'x' at column 2$", 2),
    ("2 (x)", r"^implicit multiplication is not allowed; write '\*' before '\(' at column 3$", 3),
    ("x y", r"^implicit multiplication is not allowed; write '\*' before 'y' at column 3$", 3),
    ("x(y)", r"^implicit multiplication is not allowed; write '\*' before '\(' at column 2$", 2),
    ("(x)(y)", r"^implicit multiplication is not allowed; write '\*' before '\(' at column 4$", 4),
    ("2e", r"^implicit multiplication is not allowed; write '\*' before 'e' at column 2$", 2),
    ("2pi", r"^implicit multiplication is not allowed; write '\*' before 'pi' at column 2$", 2),
    ("x $ y", r"^unexpected character '\$' at column 3$", 3),
    ("x²", r"^unexpected character '²' at column 2 \(write \^2\)$", 2),
    ("x − y", r"^unexpected character '−' at column 3 \(use '-'\)$", 3),
    ("x\x00", r"^unexpected character '\\x00' at column 2$", 2),
    ("1.2.3", r"^malformed number '1.2.3' at column 1$", 1),
    ("1e999", r"^number too large '1e999' at column 1$", 1),
    ("x ** * 2", r"^expected an expression after '\*\*' at column 3$", 3),
])
def test_error_messages(text, message, column):
    with pytest.raises(ExprError, match=message) as info:
        compile_expr(text)
    assert info.value.column == column
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text, message", [
    ("__import__('os')", r"^unexpected character ''' at column 12$"),
    ("__import__", r"^unknown name '__import__' at column 1$"),
    ("__import__(x)", r"^unknown function '__import__' at column 1$"),
    ("os", r"^unknown name 'os' at column 1$"),
    ("x.__class__", r"^unexpected character '\.' at column 2$"),
    ("eval(x)", r"^unknown function 'eval' at column 1$"),
    ("exec", r"^unknown name 'exec' at column 1$"),
    ("np.sin(x)", r"^unexpected character '\.' at column 3$"),
    ("x if y else x", r"^implicit multiplication is not allowed; write '\*' before 'if'"),
    ("[x]", r"^unexpected character '\[' at column 1$"),
    ("lambda: 0", r"^unexpected character ':' at column 7$"),
    ("lambda", r"^unknown name 'lambda' at column 1$"),
    ("x; import os", r"^unexpected character ';' at column 2$"),
    ("'x'", r"^unexpected character ''' at column 1$"),
])
def test_python_is_not_reachable(text, message):
    with pytest.raises(ExprError, match=message):
        compile_expr(text)


def test_variables_choose_the_allowed_names():
    p = compile_expr("3*t^2", variables=("t",))
    assert p.variables == ("t",)
    assert p.eval1d(np.array([2.0]), fast=False).tolist() == [12.0]
    with pytest.raises(ExprError, match=r"^unknown name 'y' at column 5$"):
        compile_expr("x + y", variables=("x",))
    with pytest.raises(ExprError, match=r"^unknown name 'x' at column 1$"):
        compile_expr("x", variables=("u", "v"))
    assert compile_expr("v - u", variables=("u", "v")).eval(1.0, 5.0, fast=False) == 4.0


@pytest.mark.parametrize("variables, message", [
    ((), r"^expressions take 1 or 2 variables, got 0$"),
    (("x", "y", "z"), r"^expressions take 1 or 2 variables, got 3$"),
    (("pi",), r"^invalid variable name 'pi' \(it is a function or constant\)$"),
    (("sin",), r"^invalid variable name 'sin' \(it is a function or constant\)$"),
    (("1x",), r"^invalid variable name '1x'$"),
    (("x", "x"), r"^duplicate variable names"),
])
def test_bad_variables(variables, message):
    with pytest.raises(ValueError, match=message):
        compile_expr("1", variables=variables)


def test_length_cap():
    ok = "x" + "+x" * ((MAX_LENGTH - 1) // 2)
    assert len(ok) <= MAX_LENGTH
    compile_expr(ok)
    with pytest.raises(ExprError, match=rf"^expression is too long \({MAX_LENGTH + 1} "
                                        rf"characters; at most {MAX_LENGTH}\)$"):
        compile_expr("x" * (MAX_LENGTH + 1))


@pytest.mark.parametrize("opener, closer", [("(", ")"), ("sin(", ")"), ("-", ""), ("2^", "")])
def test_depth_cap(opener, closer):
    deep_ok = opener * (MAX_DEPTH - 1) + "x" + closer * (MAX_DEPTH - 1)
    assert math.isfinite(compile_expr(deep_ok).eval(0.5, 0.0, fast=False)) or "^" in opener
    too_deep = opener * MAX_DEPTH + "x" + closer * MAX_DEPTH
    with pytest.raises(ExprError, match=rf"^expression is nested too deeply \(more than "
                                        rf"{MAX_DEPTH} levels\) at column \d+$"):
        compile_expr(too_deep)


def test_worst_case_input_does_not_crash():
    for text in ["(" * 1999 + "x", "-" * 1999 + "x", "x^" * 999 + "x", "sin(" * 500]:
        with pytest.raises(ExprError):
            compile_expr(text)


def test_long_flat_sum_is_fine_and_shallow():
    # a 1000-term sum is a 1000-level tree; every walk over it is iterative
    p = compile_expr("+".join(["x"] * 1000))
    assert p.eval(0.5, 0.0, fast=False) == 500.0
    assert p.stack_depth == 2
    assert len(p.pretty()) == 1000 * 4 - 3


def test_stack_order_keeps_nested_programs_shallow():
    right_nested = "x*(" * 150 + "y" + ")" * 150
    p = compile_expr(right_nested)
    assert p.stack_depth == 2 == stack_depth(p.code)
    assert p.eval(1.0, 3.0, fast=False) == 3.0
    # a balanced tree of 256 leaves needs log2(256) + 1 slots
    t = "x"
    for _ in range(8):
        t = f"({t})*({t})" if len(t) < 900 else t
    assert compile_expr(t).stack_depth <= 10


def test_programs_deeper_than_the_kernel_stack_are_refused(monkeypatch):
    monkeypatch.setattr(core_expr, "STACK_SIZE", 2)
    assert compile_expr("x*(y + 1)").stack_depth == 2
    with pytest.raises(ExprError, match=r"^expression is too complex to evaluate \(3 stack "
                                        r"slots needed; at most 2\)$"):
        compile_expr("(x + y)*(x - y)")


# ----------------------------------------------------------------------------- Program


def test_program_fields():
    p = compile_expr("x^2 + 10*y^2")
    assert isinstance(p, Program)
    assert p.text == "x^2 + 10*y^2"
    assert p.variables == ("x", "y")
    assert p.code.dtype == np.int64 and p.code.ndim == 1 and p.code.flags.c_contiguous
    assert p.consts.dtype == np.float64 and p.consts.ndim == 1 and p.consts.flags.c_contiguous
    assert sorted(p.consts.tolist()) == [2.0, 10.0]  # constants are shared
    assert p.tree == parse("x^2 + 10*y^2")
    assert p == compile_expr("x^2 + 10*y^2") and hash(p) == hash(compile_expr("x^2 + 10*y^2"))
    assert p != compile_expr("x^2 + 10*y^2", variables=("y", "x"))
    with pytest.raises(AttributeError):
        p.text = "x"
    assert "x^2 + 10*y^2" in repr(p)


def test_eval_shapes_and_grad():
    p = compile_expr("x^2 + 10*y^2")
    assert p.eval(1.0, 2.0, fast=False) == 41.0
    xs = np.linspace(-1, 1, 6).reshape(2, 3)
    f, g = p.value_grad(xs, 0.5, fast=False)
    assert f.shape == (2, 3) and g.shape == (2, 3, 2)
    np.testing.assert_allclose(f, xs**2 + 2.5)
    np.testing.assert_allclose(g[..., 0], 2 * xs)
    np.testing.assert_allclose(g[..., 1], 10.0)
    np.testing.assert_allclose(p.grad(xs, 0.5, fast=False), g)


def test_eval_needs_the_right_number_of_variables():
    with pytest.raises(ValueError, match=r"^expression in x, y needs y as well$"):
        compile_expr("x + y").eval(1.0)
    with pytest.raises(ValueError, match=r"^expression in x takes one variable; got y$"):
        compile_expr("x", variables=("x",)).eval(1.0, 2.0)
    with pytest.raises(ValueError, match=r"^eval1d needs an expression in one variable, not x, y$"):
        compile_expr("x + y").eval1d(np.zeros(3))


def test_one_variable_program():
    p = compile_expr("x^3 - 2*x", variables=("x",))
    xs = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_allclose(p.eval1d(xs, fast=False), xs**3 - 2 * xs)
    f, df = p.eval1d_grad(xs, fast=False)
    np.testing.assert_allclose(df, 3 * xs**2 - 2)
    assert p.grad(xs, fast=False).shape == (3, 1)


def test_grid_orientation():
    p = compile_expr("x + 10*y")
    z = p.grid(0.0, 1.0, 2.0, 4.0, nx=3, ny=2, fast=False)
    np.testing.assert_allclose(z, [[20.0, 20.5, 21.0], [40.0, 40.5, 41.0]])


# ----------------------------------------------------------------------------- derivatives


@pytest.mark.parametrize("text, x, f, dfdx", [
    ("x^3", -2.0, -8.0, 12.0),
    ("x^2", 0.0, 0.0, 0.0),
    ("x^0", 0.0, 1.0, 0.0),
    ("2^x", 3.0, 8.0, 8.0 * math.log(2.0)),
    ("(-2)^x", 2.0, 4.0, math.nan),  # d/dx of a negative base to a variable power
    ("x^x", 2.0, 4.0, 4.0 * (math.log(2.0) + 1.0)),
    ("abs(x)", 0.0, 0.0, 0.0),
    ("abs(x)", -3.0, 3.0, -1.0),
    ("relu(x)", 0.0, 0.0, 0.0),
    ("relu(x)", 2.0, 2.0, 1.0),
    ("relu(x)", -2.0, 0.0, 0.0),
    ("sigmoid(x)", 0.0, 0.5, 0.25),
    ("sigmoid(x)", -800.0, 0.0, 0.0),
    ("sigmoid(x)", 800.0, 1.0, 0.0),
    ("sqrt(x)", 4.0, 2.0, 0.25),
    ("log(x)", 2.0, math.log(2.0), 0.5),
    ("tan(x)", 0.5, math.tan(0.5), 1.0 + math.tan(0.5) ** 2),
    ("tanh(x)", 0.5, math.tanh(0.5), 1.0 - math.tanh(0.5) ** 2),
    ("exp(x)", 1.0, math.e, math.e),
    ("1/x", 4.0, 0.25, -1.0 / 16.0),
    ("x*sin(x)", 1.0, math.sin(1.0), math.sin(1.0) + math.cos(1.0)),
])
def test_exact_derivatives(text, x, f, dfdx):
    p = compile_expr(text, variables=("x",))
    got_f, got_df = p.eval1d_grad(np.array([x]), fast=False)
    np.testing.assert_allclose(got_f, [f], rtol=1e-14)
    np.testing.assert_allclose(got_df, [dfdx], rtol=1e-14, atol=1e-300)


def test_domain_errors_give_nan_or_inf_without_raising():
    p = compile_expr("log(x)", variables=("x",))
    assert np.isnan(p.eval1d(np.array([-1.0]), fast=False)[0])
    p = compile_expr("log(x) + y")
    f, g = p.value_grad(-1.0, 0.0, fast=False)
    assert np.isnan(f) and g[0] == -1.0  # d/dx log(x) = 1/x; f is NaN all the same
    assert np.isnan(value("sqrt(x)", -1.0))
    assert value("1/x", 0.0) == math.inf
    assert value("log(x)", 0.0) == -math.inf
    assert np.isnan(value("x^0.5", -4.0))
    assert value("exp(x)", 1000.0) == math.inf


# ----------------------------------------------------------------------------- round trip

_leaf = st.sampled_from(["x", "y", "pi", "e", "2", "0.5", "3", "1e-3", "10"])


def _combine(children):
    unary = st.tuples(st.sampled_from(["-", "+", "sin", "cos", "exp", "abs", "log", "sqrt",
                                       "tanh", "sigmoid", "relu", "tan", "("]), children)
    binary = st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^", "**"]), children)
    return st.one_of(
        unary.map(lambda t: f"{t[0]}{t[1]}" if t[0] in "+-" else
                  (f"({t[1]})" if t[0] == "(" else f"{t[0]}({t[1]})")),
        binary.map(lambda t: f"{t[0]} {t[1]} {t[2]}"))


_any_expr = st.recursive(_leaf, _combine, max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(_any_expr)
def test_pretty_round_trips(text):
    tree = parse(text)
    text2 = pretty(tree)
    assert parse(text2) == tree
    assert pretty(parse(text2)) == text2


def test_deep_mixed_nesting_stays_within_python_recursion():
    text = "x + y*(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1)
    assert compile_expr(text).stack_depth <= 3
