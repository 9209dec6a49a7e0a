"""The benchmark runner's quick path works (no timing is checked here: benchmarks are not tests)."""

import pytest


@pytest.fixture
def runner(import_benchmark):
    return import_benchmark("run")


def test_quick_w1_runs_and_reports_every_contender_it_was_given(runner, tmp_path):
    out = tmp_path / "RESULTS.md"
    report = runner.main(["--workloads", "w1", "--contenders", "nnscratch,numpy", "--quick",
                          "--repeats", "1", "--keep-blas-env", "--out", str(out)])
    text = out.read_text()
    assert text == report
    assert "## W1" in text and "| nnscratch " in text and "| numpy " in text
    rows = [line for line in text.splitlines() if line.startswith("| nnscratch")]
    assert "failed" not in rows[0]
    assert "quick mode" in text
    # with more than one thread, nnscratch on one thread is timed in the same rounds
    from benchmarks import harness
    threads = int(text.split("- Threads: ")[1].split()[0])
    one_thread = [row for row in rows if row.startswith("| nnscratch" + harness.ONE_THREAD)]
    assert len(one_thread) == (1 if threads > 1 else 0)


def test_bad_arguments_are_refused(runner):
    with pytest.raises(SystemExit):
        runner.parse_args(["--workloads", "w9"])
    with pytest.raises(SystemExit):
        runner.parse_args(["--contenders", "jax"])


def test_the_floor_and_nnscratch_train_the_same_network(runner):
    from benchmarks import w1_xor
    ctx = w1_xor.setup(quick=True, seed=0)
    floor = w1_xor.final_loss(ctx, w1_xor.train_numpy(ctx, limit=300))
    ours = w1_xor.final_loss(ctx, w1_xor.train_nnscratch(ctx, limit=300))
    assert floor == pytest.approx(ours, rel=1e-9)            # same start, same rule, same steps
    assert floor < w1_xor.final_loss(ctx, ctx["init"])
