import numpy as np

from nnscratch import cli
from nnscratch.cli import demo


def test_demo_command_prints_predictions_and_writes_the_plot(tmp_path, capsys):
    figure = tmp_path / "loss.png"
    assert cli.main(["demo", "--plot", str(figure)]) == 0
    out = capsys.readouterr().out
    assert "iteration  2500/2500" in out
    assert "rose in 0 of 2499 iterations" in out
    assert f"loss curve written to {figure}" in out
    assert figure.stat().st_size > 5000 and figure.read_bytes()[:4] == b"\x89PNG"


def test_demo_flags_change_the_network(capsys):
    assert cli.main(["demo", "--hidden", "8,4", "--activation", "tanh", "--lr", "0.5",
                     "--iterations", "300", "--seed", "3", "--plot", ""]) == 0
    out = capsys.readouterr().out
    assert "3-8-4-1, tanh hidden" in out and "iteration   300/300" in out


def test_demo_bad_flag_is_a_clear_error(capsys):
    assert cli.main(["demo", "--activation", "nope", "--plot", ""]) == 2
    assert "unknown activation" in capsys.readouterr().err


def test_demo_reaches_every_target_for_seeds_0_to_19():
    for seed in range(20):
        _, history, predictions = demo.run(seed=seed, print_every=0)
        losses = np.array(history.history["loss"])
        assert (np.diff(losses) <= 0).all(), seed
        assert np.abs(predictions - demo.Y).max() < 0.1, seed
