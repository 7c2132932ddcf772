"""Scene texts and scenes shared by the scene tests (tests/core/test_scene*.py)."""

from __future__ import annotations

from gdviz.core.scene import (Classify, Export, Fit, LrFind, Meta, OptimizerSettings, Playback,
                              Problem,
                              Regression, Run, Scene, ScheduleSettings, Text, View)

MINIMAL = """\
version = 1
starts = [[-1.5, 2.0]]

[problem]
kind = "surface"
surface = "rosenbrock"

[runs.adam]
optimizer = "adam"
lr = 0.05
"""


def bad(text: str) -> str:
    """MINIMAL with ``text`` appended (TOML allows new tables at the end)."""
    return MINIMAL + "\n" + text


def run_table(body: str, rid: str = "x", optimizer: str = "adam") -> str:
    return bad(f'[runs.{rid}]\noptimizer = "{optimizer}"\n{body}\n')


def full_scene() -> Scene:
    """A scene with every field set to something other than its default."""
    return Scene(
        seed=7, noise=0.25, batch_size=4, starts=((-1.25, 2.5), (0.5, -0.75)),
        same_lr=True, shared_lr=0.003,
        meta=Meta(lesson="L99", title=Text("Title \"quoted\"", "標題", "标题"),
                  caption=Text("Line one\nline two\ttab \\ backslash", "說明", "说明")),
        problem=Problem(kind="surface", surface="himmelblau", expr="x^2 + 3*y^2",
                        regression=Regression(n=80, w=-1.5, b=0.25, noise=0.75, seed=3,
                                              loss="mae", batch_surface=True,
                                              data=((0.0, 1.0), (1.5, -2.25), (3.0, 4.0)))),
        view=View(box=(-6.0, 6.0, -5.5, 5.5), levels=33, scale="linear", heatmap=False,
                  map="both", log_height=True, camera=(-40.0, 25.0, 7.5),
                  map_layer="steps", hyper="beta2", hyper_color="steps"),
        playback=Playback(speed=123.5, max_steps=4321, step_mode_run="b", autoplay=False),
        export=Export(fps=24, size=(1920, 1080), steps=111, steps_per_frame=3,
                      panels=("landscape", "fit", "loss", "caption")),
        fit=Fit(enabled=True, target="sine", target_expr="sin(3*x) + 0.5*x", model="relu",
                units=4, points=33, noise=0.2, seed=9, val_fraction=0.3, loss="mae",
                batch_size=8, weight_decay=0.001, show_units=True,
                init=tuple(float(i) / 4 for i in range(13)), linked=("w1", "c2"),
                data=((-1.0, 0.5), (0.0, 0.25), (1.0, 2.0)), layers=2, activation="tanh", neuron=2,
                run=OptimizerSettings(optimizer="rmsprop", lr=0.002, alpha=0.95, eps=1e-06,
                                      momentum=0.5, centered=True)),
        lrfind=LrFind(show=True, run="b", at_step=10, start_lr=1e-6, end_lr=1.0, num_it=50,
                      tune=True, tune_lrs=12, tune_steps=40),
        classify=Classify(dataset="xor", points=40, noise=0.25, seed=5, val_split=0.2,
                          layers=2, units=2, activation="tanh", csv="pts.csv",
                          data=((0.0, 0.0, 1.0), (1.0, -1.0, 0.0), (2.0, 0.5, 1.0)),
                          batch_size=2, linked=("W1[1,2]", "b2[1]"),
                          init=tuple(float(i) / 8 for i in range(15))),
        runs=(
            Run(id="a", label="SGD ×10", enabled=False, expect_diverge=True,
                opt=OptimizerSettings(optimizer="momentum", lr=0.15, momentum=0.5, dampening=0.25,
                                      weight_decay=0.0)),
            Run(id="b", label="Adam", opt=OptimizerSettings(
                optimizer="adam", lr=0.01, beta1=0.85, beta2=0.995, eps=1e-08,
                weight_decay=0.0001, amsgrad=True,
                schedule=ScheduleSettings("one-cycle", (("pct_start", 0.3),
                                                        ("moms", (0.9, 0.8, 0.9)))))),
            Run(id="c d", label="Adagrad (quoted id)", opt=OptimizerSettings(
                optimizer="adagrad", lr=0.5, lr_decay=0.001, initial_accumulator_value=0.1)),
        ),
    )
