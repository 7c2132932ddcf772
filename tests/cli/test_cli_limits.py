"""The CLI's limits are gdviz.core.limits': beyond them, exit 2 with one line."""

from __future__ import annotations

import pytest

from gdviz.core import limits


@pytest.mark.parametrize("argv, message", [
    (["trace", "--surface", "quadratic", "--optimizer", "sgd", "--start", "0,0"],
     f"invalid --steps {limits.MAX_STEPS + 1}: must be between 0 and {limits.MAX_STEPS}"),
    (["fit", "--target", "quadratic", "--model", "quadratic", "--optimizer", "adam"], f"invalid --steps {limits.MAX_STEPS + 1}: must be between 0 and {limits.MAX_STEPS}"),
])
def test_cli_steps_beyond_max_steps_exit_2_with_one_line(argv, message, capsys):
    from gdviz.cli import main

    assert main([*argv, "--steps", str(limits.MAX_STEPS + 1)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and message in err


def test_trace_batch_size_beyond_the_limit_exits_2(capsys):
    from gdviz.cli import main

    argv = ["trace", "--surface", "quadratic", "--optimizer", "sgd", "--start", "0,0",
            "--batch-size", str(limits.MAX_BATCH_SIZE + 1)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (f"invalid --batch-size {limits.MAX_BATCH_SIZE + 1}: "
            f"must be between 1 and {limits.MAX_BATCH_SIZE}") in err
