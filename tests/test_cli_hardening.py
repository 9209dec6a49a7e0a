"""The command line under hostile input: memory of the CSV reader, failures found before training,
outputs that must not be overwritten, bad seeds, and writes that never leave half a file."""

import contextlib
import csv
import os
import stat
import tracemalloc

import numpy as np
import pytest

import nnscratch as ns
from nnscratch import cli
from nnscratch.cli import preprocessing as prep
from nnscratch.cli import tables
from nnscratch.errors import DataError


def assert_one_line_error(capsys, command, expected, stdout_empty=True):
    """Exit status checked by the caller; stderr is one line naming the command and ``expected``."""
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err, err
    assert err.startswith(f"nnscratch {command}: error: "), err
    assert expected in err, err
    if stdout_empty:
        assert captured.out == "", captured.out
    return err


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def small_csv(path, n=40, big=None, target="y", regress=False):
    """Columns a, b and the target; ``big=(row, column, text)`` puts one cell in by hand."""
    rows = [[f"{i * 0.37 % 5:.3f}", f"{(i * 7) % 11 - 5}",
             f"{i * 1.7 % 9:.2f}" if regress else "ab"[i % 2]] for i in range(n)]
    if big is not None:
        row, column, text = big
        rows[row][["a", "b", target].index(column)] = text
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", target])
        writer.writerows(rows)
    return path


def train_args(data, folder, *extra):
    return ["train", str(data), "--target", "y", "--out", str(folder / "m.nns"), "--epochs", "2",
            "--verbose", "0", "--hidden", "4", *extra]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A small classifier trained once: (its folder, the model path, the data path)."""
    folder = tmp_path_factory.mktemp("model")
    data = small_csv(folder / "d.csv")
    with contextlib.redirect_stdout(None):
        assert cli.main(train_args(data, folder)) == 0
    return folder, folder / "m.nns", data


# ---------------------------------------------------------------------------------------------
# 1. The CSV reader's memory is proportional to the file, however long one cell is
# ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def address_space_ceiling(extra_bytes):
    """Linux: cap this process's address space at its present size plus ``extra_bytes``, so a
    reader that asks for gigabytes fails with MemoryError instead of swapping the machine."""
    try:
        import resource
        with open("/proc/self/statm") as handle:
            size = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + extra_bytes
    if hard != resource.RLIM_INFINITY and limit > hard:
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


ROWS, COLUMNS, LONG_ROW, LONG = 2000, 20, 1000, 100_000


def wide_csv(path, long_column):
    """ROWS x COLUMNS cells (c0..c18 numbers, a text 'label'); one LONG-char cell in
    ``long_column`` on row LONG_ROW (file line LONG_ROW + 2). Returns the numbers of c0..c18."""
    names = [f"c{j}" for j in range(COLUMNS - 1)] + ["label"]
    values = np.arange(ROWS * (COLUMNS - 1)).reshape(ROWS, COLUMNS - 1) % 997 / 8.0
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for i, row in enumerate(values):
            cells = [f"{v:.3f}" for v in row] + ["ab"[i % 2]]
            if i == LONG_ROW:
                cells[names.index(long_column)] = "x" * LONG
            writer.writerow(cells)
    return values


def peak_of(work):
    """``(result, peak bytes traced)`` of ``work()``, under an address-space ceiling of 1 GiB."""
    with address_space_ceiling(1 << 30):
        tracemalloc.start()
        try:
            result = work()
            return result, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_a_long_bad_number_costs_memory_in_proportion_to_the_file(tmp_path):
    path = tmp_path / "t.csv"
    values = wide_csv(path, "c7")

    def work():
        table = tables.read_csv(path)
        with pytest.raises(DataError) as info:
            tables.numeric_column(table, "c7")
        others = [f"c{j}" for j in range(COLUMNS - 1) if j != 7]
        return str(info.value), tables.feature_matrix(table, others), table

    (message, x, table), peak = peak_of(work)
    size = path.stat().st_size
    assert peak < 20 * size, f"peak {peak} bytes for a {size}-byte file"
    assert message.startswith(f"t.csv, line {LONG_ROW + 2}, column 'c7': expected a number, "
                              "got 'xxxx")
    assert "\n" not in message and len(message) < 120
    np.testing.assert_array_equal(x, np.delete(values, 7, axis=1).round(3))
    assert len(table) == ROWS and table.lines[LONG_ROW] == LONG_ROW + 2


def test_a_long_text_label_is_read_as_text_in_proportion_to_the_file(tmp_path):
    path = tmp_path / "t.csv"
    wide_csv(path, "label")

    def work():
        table = tables.read_csv(path)
        labels = prep.target_labels(table, "label")
        classes = prep.fit_classes(labels)
        codes = prep.encode_labels(labels, classes, table, "label")
        return classes, codes, prep.decode_labels(codes, classes)

    (classes, codes, decoded), peak = peak_of(work)
    size = path.stat().st_size
    assert peak < 20 * size, f"peak {peak} bytes for a {size}-byte file"
    assert classes == ["a", "b", "x" * LONG]
    expected = np.arange(ROWS) % 2
    expected[LONG_ROW] = 2
    np.testing.assert_array_equal(codes, expected)
    assert decoded[LONG_ROW] == "x" * LONG and decoded[0] == "a"


def test_train_on_a_file_with_a_long_cell_is_the_usual_one_line_error(tmp_path, capsys):
    path = tmp_path / "t.csv"
    wide_csv(path, "c3")
    with address_space_ceiling(1 << 30):
        code = cli.main(["train", str(path), "--target", "label", "--out",
                         str(tmp_path / "m.nns"), "--epochs", "1", "--verbose", "0"])
    assert code == 2
    assert_one_line_error(capsys, "train", f"t.csv, line {LONG_ROW + 2}, column 'c3': expected a "
                                           "number, got 'xxxx")
    assert listing(tmp_path) == ["t.csv"]


# ---------------------------------------------------------------------------------------------
# 2a. An output that cannot be written is refused before reading and training
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def unwritable(monkeypatch):
    """A folder ``os.access`` says cannot be written (root may write anywhere, so chmod alone
    cannot make one for every user that runs the tests)."""
    def make(folder):
        real = os.access
        target = os.path.realpath(folder)

        def access(path, mode, *args, **kwargs):
            if mode & os.W_OK and os.path.realpath(path) == target:
                return False
            return real(path, mode, *args, **kwargs)

        monkeypatch.setattr(os, "access", access)
        return folder
    return make


def test_train_refuses_an_unwritable_out_folder_before_reading(tmp_path, capsys, unwritable):
    data = small_csv(tmp_path / "d.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    unwritable(locked)
    args = train_args(data, tmp_path)
    args[args.index("--out") + 1] = str(locked / "m.nns")
    assert cli.main(args) == 2
    assert_one_line_error(capsys, "train", f"cannot write the model to '{locked / 'm.nns'}': "
                                           f"folder '{locked}' is not writable")
    assert listing(locked) == []


def test_train_refuses_an_unwritable_plot_folder_before_reading(tmp_path, capsys, unwritable):
    data = small_csv(tmp_path / "d.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    unwritable(locked)
    assert cli.main(train_args(data, tmp_path, "--plot", str(locked / "c.png"))) == 2
    assert_one_line_error(capsys, "train", f"cannot write the loss curves to "
                                           f"'{locked / 'c.png'}': folder '{locked}' is not "
                                           "writable")
    assert listing(tmp_path) == ["d.csv", "locked"] and listing(locked) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write into a read-only folder")
def test_train_refuses_a_read_only_folder_before_reading(tmp_path, capsys):
    data = small_csv(tmp_path / "d.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        args = train_args(data, tmp_path)
        args[args.index("--out") + 1] = str(locked / "m.nns")
        assert cli.main(args) == 2
        assert_one_line_error(capsys, "train", "is not writable")
        assert listing(locked) == []
    finally:
        locked.chmod(0o755)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_an_out_path_that_is_not_a_regular_file_is_refused(model, tmp_path, capsys):
    _, model_path, data = model
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    args = train_args(data, tmp_path)
    args[args.index("--out") + 1] = str(pipe)
    assert cli.main(args) == 2
    assert_one_line_error(capsys, "train", f"cannot write the model to '{pipe}': it exists and "
                                           "is not a regular file")
    assert cli.main(["predict", str(model_path), str(data), "--out", str(pipe)]) == 2
    assert_one_line_error(capsys, "predict", "is not a regular file")
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and listing(tmp_path) == ["pipe"]


@pytest.mark.skipif(os.name != "posix", reason="sticky folders are POSIX")
def test_another_users_file_in_a_sticky_folder_is_refused(model, tmp_path, capsys, monkeypatch):
    _, model_path, data = model
    (tmp_path / "p.csv").write_text("someone else's predictions\n")
    tmp_path.chmod(0o1777)                               # like /tmp
    monkeypatch.setattr(os, "geteuid", lambda: 4242)     # we are not the owner of either
    assert cli.main(["predict", str(model_path), str(data), "--out",
                     str(tmp_path / "p.csv")]) == 2
    assert_one_line_error(capsys, "predict", "it belongs to another user, in a folder where only "
                                             "a file's owner may replace it")
    assert (tmp_path / "p.csv").read_text() == "someone else's predictions\n"


def test_predict_refuses_an_unwritable_out_folder_before_predicting(model, tmp_path, capsys,
                                                                   unwritable):
    _, model_path, data = model
    unwritable(tmp_path)
    assert cli.main(["predict", str(model_path), str(data), "--out",
                     str(tmp_path / "p.csv")]) == 2
    assert_one_line_error(capsys, "predict", f"folder '{tmp_path}' is not writable")
    assert listing(tmp_path) == []


def test_demo_checks_its_plot_path_before_training(tmp_path, capsys, unwritable):
    unwritable(tmp_path)
    assert cli.main(["demo", "--iterations", "5", "--plot", str(tmp_path / "loss.png")]) == 2
    assert_one_line_error(capsys, "demo", "cannot write the loss curve to")
    assert cli.main(["demo", "--iterations", "5", "--plot",
                     str(tmp_path / "missing" / "loss.png")]) == 2
    assert_one_line_error(capsys, "demo", "does not exist")
    assert listing(tmp_path) == []


@pytest.mark.parametrize("command", ["train", "demo"])
def test_a_figure_format_matplotlib_cannot_write_is_refused_before_training(tmp_path, capsys,
                                                                            command):
    pytest.importorskip("matplotlib")
    data = small_csv(tmp_path / "d.csv")
    figure = str(tmp_path / "curves.txt")
    if command == "train":
        args = train_args(data, tmp_path, "--plot", figure)
    else:
        args = ["demo", "--iterations", "3", "--plot", figure]
    assert cli.main(args) == 2
    assert_one_line_error(capsys, command, f"cannot draw a figure to {figure!r}: 'txt' is not a "
                                           "figure format; use one of ")
    assert listing(tmp_path) == ["d.csv"]


# ---------------------------------------------------------------------------------------------
# 2b. Numbers beyond float32 are refused before training, naming their line and column
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("column, text", [("b", "1e200"), ("a", "-1e39"), ("b", "3.5e38")])
def test_train_refuses_a_feature_beyond_float32_before_training(tmp_path, capsys, column, text):
    data = small_csv(tmp_path / "big.csv", big=(3, column, text))
    assert cli.main(train_args(data, tmp_path, "--plot", str(tmp_path / "c.png"))) == 2
    assert_one_line_error(capsys, "train", f"big.csv, line 5, column '{column}': expected a "
                                           f"number between -3.4e+38 and 3.4e+38 (what float32 "
                                           f"holds), got '{text}'")
    assert listing(tmp_path) == ["big.csv"]


def test_train_refuses_a_regression_target_beyond_float32(tmp_path, capsys):
    data = small_csv(tmp_path / "big.csv", big=(7, "y", "-2e300"), regress=True)
    assert cli.main(train_args(data, tmp_path, "--task", "regress")) == 2
    assert_one_line_error(capsys, "train", "big.csv, line 9, column 'y': expected a number "
                                           "between -3.4e+38 and 3.4e+38")
    assert listing(tmp_path) == ["big.csv"]


def test_an_archive_value_beyond_float32_names_its_index(tmp_path, capsys):
    x = np.arange(40.0).reshape(20, 2)
    x[3, 1] = 1e200
    np.savez(tmp_path / "d.npz", x=x, y=np.arange(20) % 2)
    assert cli.main(["train", str(tmp_path / "d.npz"), "--out", str(tmp_path / "m.nns"),
                     "--epochs", "1", "--verbose", "0"]) == 2
    assert_one_line_error(capsys, "train", "d.npz, x[3, 1] (column 'x1'): expected a number "
                                           "between -3.4e+38 and 3.4e+38 (what float32 holds), "
                                           "got '1e+200'")
    assert listing(tmp_path) == ["d.npz"]


def test_large_numbers_within_float32_still_train(tmp_path, capsys):
    data = small_csv(tmp_path / "d.csv", big=(3, "b", "1e30"))
    assert cli.main(train_args(data, tmp_path)) == 0
    record = ns.load(tmp_path / "m.nns").metadata["nnscratch_train"]
    assert np.all(np.isfinite(record["feature_mean"] + record["feature_std"]))


def test_predict_and_evaluate_refuse_a_feature_beyond_float32(model, tmp_path, capsys):
    _, model_path, _ = model
    data = small_csv(tmp_path / "new.csv", big=(2, "a", "1e200"))
    assert cli.main(["predict", str(model_path), str(data), "--out", str(tmp_path / "p.csv")]) == 2
    assert_one_line_error(capsys, "predict", "new.csv, line 4, column 'a': expected a number "
                                             "between -3.4e+38 and 3.4e+38")
    assert cli.main(["evaluate", str(model_path), str(data)]) == 2
    assert_one_line_error(capsys, "evaluate", "new.csv, line 4, column 'a'")
    assert listing(tmp_path) == ["new.csv"]


def test_predict_refuses_a_value_whose_z_score_overflows_float32(tmp_path, capsys):
    with open(tmp_path / "d.csv", "w") as handle:        # column a: spread of 5e-31
        handle.write("a,b,y\n" + "".join(f"{1e-30 * (1 + i % 2)},{i % 7},{'ab'[i % 2]}\n"
                                          for i in range(40)))
    assert cli.main(train_args(tmp_path / "d.csv", tmp_path)) == 0
    (tmp_path / "new.csv").write_text("a,b\n1e-30,2\n1e10,3\n")
    capsys.readouterr()
    assert cli.main(["predict", str(tmp_path / "m.nns"), str(tmp_path / "new.csv")]) == 2
    assert_one_line_error(capsys, "predict", "new.csv, line 3, column 'a': 1e+10 lies 2e+40 "
                                             "training standard deviations from the training "
                                             "mean, beyond what float32 holds")


# ---------------------------------------------------------------------------------------------
# 2c. predict --out never overwrites the model, the data or another model file
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def copies(model, tmp_path):
    """Fresh copies of the module's model and data in an empty folder."""
    _, model_path, data = model
    (tmp_path / "m.nns").write_bytes(model_path.read_bytes())
    (tmp_path / "d.csv").write_bytes(data.read_bytes())
    return tmp_path / "m.nns", tmp_path / "d.csv"


@pytest.mark.parametrize("out, expected", [
    ("m.nns", "it is the model file"),
    ("./m.nns", "it is the model file"),
    ("link", "it is the model file"),
    ("d.csv", "it is the data file"),
    ("other.nns", "it is a model file"),
])
def test_predict_never_overwrites_the_model_the_data_or_a_model_file(copies, tmp_path, capsys,
                                                                     monkeypatch, out, expected):
    model_path, data = copies
    (tmp_path / "other.nns").write_bytes(model_path.read_bytes())
    os.symlink("m.nns", tmp_path / "link")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    monkeypatch.chdir(tmp_path)
    assert cli.main(["predict", str(model_path), str(data), "--out", out]) == 2
    assert_one_line_error(capsys, "predict", f"cannot write the predictions to {out!r}: {expected}")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_predict_may_replace_earlier_predictions(copies, tmp_path, capsys):
    model_path, data = copies
    (tmp_path / "p.csv").write_text("old\n")
    assert cli.main(["predict", str(model_path), str(data), "--out", str(tmp_path / "p.csv")]) == 0
    assert (tmp_path / "p.csv").read_text().startswith("y,prob_a,prob_b\n")


@pytest.mark.parametrize("extra, expected", [
    (["--out", "d.csv"], "cannot write the model to 'd.csv': it is the data file"),
    (["--plot", "m.nns"], "cannot write the loss curves to 'm.nns': it is the model file"),
    (["--out", "x.nns", "--plot", "m.nns"], "cannot write the loss curves to 'm.nns': it is a "
                                            "model file"),
    (["--plot", "d.csv"], "cannot write the loss curves to 'd.csv': it is the data file"),
])
def test_train_never_overwrites_its_data_or_a_model_with_a_figure(copies, tmp_path, capsys,
                                                                  monkeypatch, extra, expected):
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    monkeypatch.chdir(tmp_path)
    args = ["train", "d.csv", "--target", "y", "--out", "m.nns", "--epochs", "1", "--verbose", "0"]
    assert cli.main(args + extra) == 2
    assert_one_line_error(capsys, "train", expected)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# ---------------------------------------------------------------------------------------------
# 3. A bad seed is a one-line error before anything runs
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", ["-1", str(2**63)])
@pytest.mark.parametrize("command", ["train", "demo"])
def test_a_bad_seed_is_a_one_line_error(tmp_path, capsys, command, seed):
    data = small_csv(tmp_path / "d.csv")
    if command == "train":
        args = train_args(data, tmp_path, "--seed", seed)
    else:
        args = ["demo", "--seed", seed, "--plot", str(tmp_path / "loss.png")]
    assert cli.main(args) == 2
    assert_one_line_error(capsys, command, f"--seed must be None or an integer in [0, 2**63), "
                                           f"got {seed}")
    assert listing(tmp_path) == ["d.csv"]


# ---------------------------------------------------------------------------------------------
# Writes are atomic: an interrupted figure leaves the old file whole
# ---------------------------------------------------------------------------------------------

@pytest.fixture
def interrupted_savefig(monkeypatch):
    """Figure.savefig writes half a file, then the user presses Ctrl-C."""
    figure = pytest.importorskip("matplotlib.figure")

    def savefig(self, target, *args, **kwargs):
        if isinstance(target, (str, os.PathLike)):
            with open(target, "wb") as handle:
                handle.write(b"half a PNG")
        else:
            target.write(b"half a PNG")
        raise KeyboardInterrupt

    monkeypatch.setattr(figure.Figure, "savefig", savefig)


@pytest.mark.parametrize("command", ["train", "demo"])
def test_an_interrupted_figure_leaves_the_old_one_whole(tmp_path, capsys, interrupted_savefig,
                                                        command):
    data = small_csv(tmp_path / "d.csv")
    (tmp_path / "c.png").write_bytes(b"the old figure")
    if command == "train":
        args = train_args(data, tmp_path, "--plot", str(tmp_path / "c.png"))
    else:
        args = ["demo", "--iterations", "3", "--plot", str(tmp_path / "c.png")]
    with pytest.raises(KeyboardInterrupt):
        cli.main(args)
    assert (tmp_path / "c.png").read_bytes() == b"the old figure"
    assert not [name for name in listing(tmp_path) if name.endswith(".tmp")]


def test_standardisation_refuses_what_it_cannot_scale(no_warnings):
    with pytest.raises(DataError, match=r"column 1 of the features: its variance is not finite "
                                        r"in float64 \(its largest magnitude is 1e\+200\)"):
        prep.fit_standardization(np.array([[1.0, 1e200], [2.0, -1e200]]))
    with pytest.raises(DataError, match=r"^row 1, column 0: 1e\+10 lies 2e\+40 training standard "
                                        r"deviations from the training mean, beyond what float32 "
                                        r"holds$"):
        prep.standardize(np.array([[0.0], [1e10]]), [0.0], [5e-31])
    assert prep.standardize(np.array([[1e10]]), [0.0], [5e-31], dtype=np.float64)[0, 0] == pytest.approx(2e40)
