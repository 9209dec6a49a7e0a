import csv
import io
import sys

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    TerminateOnNaN,
)
from nnscratch.errors import ConfigError, MissingDependencyError, TrainingError


def regression_data(rng, n=48):
    x = rng.standard_normal((n, 3))
    return x, x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3


def small_net(seed=0, lr=0.05, **kw):
    return ns.Network([ns.Dense(6, activation="tanh"), ns.Dense(1)], loss="mse",
                      optimizer=ns.optimizers.SGD(learning_rate=lr), seed=seed, **kw)


def drive(callback, network, values, key="val_loss"):
    """Feed a callback a sequence of epoch logs, as fit would; returns the epochs run."""
    callback.set_network(network)
    network.stop_training = False
    callback.on_train_begin({})
    ran = []
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch, {})
        callback.on_epoch_end(epoch, {key: value})
        ran.append(epoch)
        if network.stop_training:
            break
    callback.on_train_end({})
    return ran


class WeightRecorder(Callback):
    """Keeps a copy of the weights at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.network.get_weights())


def assert_same_weights(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


# ---- EarlyStopping -------------------------------------------------------------------------

@pytest.mark.parametrize("patience, values, stopped", [
    (0, [3, 2, 2.5, 1], 2),          # stops at the first epoch without improvement
    (2, [3, 2, 2.5, 2.2, 1], 3),     # two epochs in a row without improvement
    (2, [3, 2, 2.5, 1.5, 1.6, 1.7, 0], 5),
    (3, [3, 2, 1, 0.5], None),       # always improving: runs to the end
])
def test_early_stopping_patience(patience, values, stopped):
    es = EarlyStopping(patience=patience)
    ran = drive(es, small_net(), values)
    assert es.stopped_epoch == stopped
    assert ran[-1] == (len(values) - 1 if stopped is None else stopped)


def test_early_stopping_min_delta_mode_and_baseline():
    es = EarlyStopping(monitor="val_loss", min_delta=0.5, patience=1)
    drive(es, small_net(), [3.0, 2.8, 2.6])          # improvements smaller than min_delta
    assert es.stopped_epoch == 1 and es.best == 3.0
    es = EarlyStopping(monitor="val_accuracy", patience=1)   # auto: accuracy is maximized
    assert es.mode == "max"
    drive(es, small_net(), [0.5, 0.7, 0.6], key="val_accuracy")
    assert es.best == 0.7 and es.stopped_epoch == 2
    es = EarlyStopping(patience=2, baseline=1.0)     # never beats the baseline: stops after 2
    drive(es, small_net(), [3.0, 2.0, 1.5, 1.2])
    assert es.stopped_epoch == 1
    es = EarlyStopping(patience=0, start_from_epoch=2)
    drive(es, small_net(), [1.0, 2.0, 3.0, 4.0, 5.0])
    assert es.stopped_epoch == 3


def test_early_stopping_stops_and_restores_the_best_weights(rng):
    x, y = regression_data(rng)
    # validation targets of the opposite sign: the better the fit, the worse the validation
    recorder = WeightRecorder()
    es = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    net = small_net(seed=1, lr=0.05)
    history = net.fit(x, y, epochs=100, batch_size=8, validation_data=(x, -y),
                      callbacks=[recorder, es], verbose=0)
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) < 100 and es.stopped_epoch == len(val) - 1 == best + 3
    assert es.best_epoch == best and es.restored
    assert_same_weights(net.get_weights(), recorder.weights[best])
    assert net.evaluate(x, -y)["loss"] == pytest.approx(val[best], rel=1e-6)


def test_early_stopping_without_restore_keeps_the_last_weights(rng):
    x, y = regression_data(rng)
    recorder = WeightRecorder()
    net = small_net(seed=1)
    net.fit(x, y, epochs=100, batch_size=8, validation_data=(x, -y),
            callbacks=[recorder, EarlyStopping(patience=3)], verbose=0)
    assert_same_weights(net.get_weights(), recorder.weights[-1])


def test_early_stopping_restores_batch_norm_buffers_too(rng):
    x, y = regression_data(rng)
    net = ns.Network([ns.Dense(4), ns.BatchNormalization(), ns.Dense(1)], loss="mse", seed=0,
                     optimizer=ns.optimizers.SGD(learning_rate=0.05))
    recorder = WeightRecorder()
    es = EarlyStopping(patience=2, restore_best_weights=True)
    net.fit(x, y, epochs=60, batch_size=8, validation_data=(x, -y), callbacks=[recorder, es], verbose=0)
    assert es.restored
    assert_same_weights(net.get_weights(), recorder.weights[es.best_epoch])


def test_monitoring_a_missing_quantity_names_what_there_is(rng):
    x, y = regression_data(rng)
    with pytest.raises(ConfigError, match=r"monitors 'val_loss', which is not among the epoch's logs "
                                          r"\(loss\) \(pass validation_data"):
        small_net().fit(x, y, epochs=2, callbacks=[EarlyStopping()], verbose=0)


@pytest.mark.parametrize("make, message", [
    (lambda: EarlyStopping(patience=-1), "patience must be an integer >= 0, got -1"),
    (lambda: EarlyStopping(mode="up"), "mode must be one of 'auto', 'min', 'max', got 'up'"),
    (lambda: EarlyStopping(min_delta=-0.1), "min_delta must be a number >= 0"),
    (lambda: EarlyStopping(monitor=3), "monitor must be the name of a logged quantity"),
    (lambda: EarlyStopping(baseline="low"), "baseline must be a finite number, got 'low'"),
    (lambda: ModelCheckpoint(filepath=3.5), "filepath must be a path or None, got float"),
    (lambda: ReduceLROnPlateau(factor=1.0), r"factor must be a number in \(0, 1\), got 1.0"),
    (lambda: ReduceLROnPlateau(min_lr=-1), "min_lr must be a number >= 0"),
    (lambda: ReduceLROnPlateau(cooldown=1.5), "cooldown must be an integer >= 0"),
    (lambda: LearningRateScheduler(0.1), r"needs a callable schedule\(epoch, lr\), got float"),
    (lambda: CSVLogger(None), "filename must be a path, got NoneType"),
    (lambda: CSVLogger("log.csv", separator=";;"), "separator must be one character"),
    (lambda: ProgressBar(epochs=0, steps=3), "epochs must be a positive integer, got 0"),
])
def test_bad_callback_settings(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_fit_rejects_non_callbacks_and_accepts_a_single_one(rng):
    x, y = regression_data(rng)
    with pytest.raises(ConfigError, match=r"callbacks must be Callback objects .* got function"):
        small_net().fit(x, y, epochs=1, callbacks=[lambda: None], verbose=0)
    es = EarlyStopping(monitor="loss")
    small_net().fit(x, y, epochs=2, callbacks=es, verbose=0)
    assert es.best is not None


# ---- ModelCheckpoint -----------------------------------------------------------------------

def test_model_checkpoint_keeps_the_best_weights_in_memory(rng):
    x, y = regression_data(rng)
    recorder = WeightRecorder()
    ckpt = ModelCheckpoint()
    net = small_net(seed=1)
    history = net.fit(x, y, epochs=15, batch_size=8, validation_data=(x, -y),
                      callbacks=[recorder, ckpt], verbose=0)
    best = int(np.argmin(history.history["val_loss"]))
    assert ckpt.best_epoch == best and ckpt.best == min(history.history["val_loss"])
    assert_same_weights(ckpt.best_weights, recorder.weights[best])
    ckpt.restore()
    assert_same_weights(net.get_weights(), recorder.weights[best])
    with pytest.raises(ConfigError, match="no best weights to restore yet"):
        ModelCheckpoint().restore()


def test_model_checkpoint_file_names_and_save_best_only(rng):
    x, y = regression_data(rng)
    saved = []
    net = small_net(seed=1)
    net.save = lambda path, include_optimizer=True: saved.append(path)
    every = ModelCheckpoint("ckpt-{epoch:03d}-{loss:.2f}.nns", monitor="val_loss")
    best_only = ModelCheckpoint("best-{epoch}.nns", save_best_only=True)
    history = net.fit(x, y, epochs=6, batch_size=8, validation_data=(x, -y),
                      callbacks=[every, best_only], verbose=0)
    losses = history.history["loss"]
    assert every.saved_paths == [f"ckpt-{e + 1:03d}-{losses[e]:.2f}.nns" for e in range(6)]
    val = history.history["val_loss"]
    improved = [e for e in range(6) if val[e] < min(val[:e], default=np.inf)]
    assert best_only.saved_paths == [f"best-{e + 1}.nns" for e in improved]
    assert saved == [p for e in range(6) for p in (every.saved_paths[e],)
                     + ((f"best-{e + 1}.nns",) if e in improved else ())]


def test_model_checkpoint_writes_files_that_load_back(rng, tmp_path):
    x, y = regression_data(rng)
    net = small_net(seed=2)
    ckpt = ModelCheckpoint(tmp_path / "model-{epoch:02d}.nns", monitor="loss", save_best_only=True)
    net.fit(x, y, epochs=3, batch_size=8, callbacks=[ckpt], verbose=0)
    assert ckpt.saved_paths[-1] == str(tmp_path / "model-03.nns")
    loaded = ns.load(ckpt.saved_paths[-1])
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_model_checkpoint_bad_format_field(rng):
    x, y = regression_data(rng)
    net = small_net()
    net.save = lambda path, include_optimizer=True: None
    with pytest.raises(ConfigError, match=r"cannot be filled in: KeyError\('acc'\); it may use \{epoch\} "
                                          r"and the log keys \(loss\)"):
        net.fit(x, y, epochs=1, callbacks=[ModelCheckpoint("m-{acc}.nns")], verbose=0)


# ---- TerminateOnNaN and divergence ---------------------------------------------------------

def test_terminate_on_nan_checks_batch_losses():
    cb = TerminateOnNaN()
    cb.on_epoch_begin(4)
    cb.on_batch_end(0, {"loss": 1.0})
    with pytest.raises(TrainingError, match="loss became nan at epoch 5, batch 3"):
        cb.on_batch_end(2, {"loss": float("nan")})


def test_terminate_on_nan_catches_a_non_finite_validation_loss(rng):
    x, y = regression_data(rng)
    x_val = np.full((4, 3), 1e30)                    # finite input whose squared error overflows

    def linear():
        return ns.Network([ns.Dense(1)], loss="mse", seed=0)

    history = linear().fit(x, y, epochs=2, validation_data=(x_val, y[:4]), verbose=0)
    assert not np.isfinite(history.history["val_loss"]).any()        # fit alone carries on
    with pytest.raises(TrainingError, match=r"TerminateOnNaN: val_loss became (inf|nan) at the end of epoch 1"):
        linear().fit(x, y, epochs=3, validation_data=(x_val, y[:4]), callbacks=[TerminateOnNaN()],
                        verbose=0)


@pytest.mark.parametrize("lr", [1e4, 1e100])
def test_divergence_stops_with_a_training_error_and_a_working_model(lr, rng, no_warnings):
    x, y = regression_data(rng)
    net = ns.Network([ns.Dense(6, activation="relu"), ns.BatchNormalization(), ns.Dense(1)], loss="mse",
                     optimizer=ns.optimizers.SGD(learning_rate=lr), seed=0)
    with pytest.raises(TrainingError, match=r"training diverged at epoch \d+, batch \d+: .*restored.*"
                                            r"Lower the learning rate"):
        net.fit(x, y * 100, epochs=50, batch_size=8, verbose=0)
    assert all(np.isfinite(w).all() for w in net.get_weights().values())
    with np.errstate(all="ignore"):
        assert np.isfinite(net.predict(x)).all()                   # not a NaN model


def test_a_non_finite_loss_at_the_first_step_leaves_the_starting_weights(rng):
    x, y = regression_data(rng)
    net = ns.Network([ns.Dense(2), ns.BatchNormalization(), ns.Dense(1)], loss="mse", seed=0,
                     input_shape=(3,))
    net.layers[0].params["W"][:] = 3e38                            # finite, but the forward overflows
    before = net.get_weights()
    with pytest.raises(TrainingError, match="epoch 1, batch 1: the loss is not finite; it happened "
                                            "before any update"):
        net.fit(x * 10, y, epochs=1, verbose=0)
    assert_same_weights(net.get_weights(), before)                 # running statistics too


# ---- learning rate callbacks ---------------------------------------------------------------

def test_learning_rate_scheduler_sets_and_logs_the_rate(rng):
    x, y = regression_data(rng)
    net = small_net(lr=0.1)
    seen = []

    class Spy(Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(self.network.optimizer.learning_rate)

    history = net.fit(x, y, epochs=4, batch_size=24,
                      callbacks=[LearningRateScheduler(lambda epoch, lr: lr * 0.5), Spy()], verbose=0)
    assert history.history["lr"] == [0.05, 0.025, 0.0125, 0.00625]
    assert seen == [0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.00625, 0.00625]
    net.fit(x, y, epochs=2, callbacks=[LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))], verbose=0)
    assert net.optimizer.learning_rate == 0.02


def test_learning_rate_callbacks_refuse_a_scheduled_optimizer_and_bad_rates(rng):
    x, y = regression_data(rng)
    net = ns.Network([ns.Dense(1)], optimizer=ns.optimizers.SGD(learning_rate=lambda step: 0.01))
    with pytest.raises(ConfigError, match="learning_rate is already a schedule of the step"):
        net.fit(x, y, epochs=1, callbacks=[LearningRateScheduler(lambda e, lr: lr)], verbose=0)
    with pytest.raises(ConfigError, match=r"schedule returned for epoch 0 must be a number > 0, got -1"):
        small_net().fit(x, y, epochs=1, callbacks=[LearningRateScheduler(lambda e, lr: -1)], verbose=0)


def test_reduce_lr_on_plateau_follows_patience_cooldown_and_min_lr():
    net = small_net(lr=1.0)
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2, min_lr=0.2)
    values = [1.0, 0.9, 0.95, 0.93, 0.99, 0.97, 0.96, 0.98, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9]
    drive(cb, net, values)
    # epoch 1 is the best; 2 and 3 do not improve -> reduce after epoch 3; cooldown 2 (as in
    # Keras): epoch 4 is not counted, epoch 5 counts again, 6 -> reduce after 6; 8 improves;
    # 9, 10 -> reduce after 10 to max(0.125, 0.2) = 0.2; the rate then stays at min_lr.
    assert cb.reductions == [(3, 0.5), (6, 0.25), (10, 0.2)]
    assert net.optimizer.learning_rate == 0.2


def test_reduce_lr_on_plateau_logs_the_rate_in_history(rng):
    x, y = regression_data(rng)
    history = small_net().fit(x, y, epochs=3, callbacks=[ReduceLROnPlateau(monitor="loss", patience=0,
                                                                           min_delta=10.0)], verbose=0)
    # the first epoch sets the best value; each later one misses min_delta and cuts the rate
    assert history.history["lr"] == pytest.approx([0.05, 0.005, 0.0005])


# ---- CSVLogger -----------------------------------------------------------------------------

def test_csv_logger_writes_every_epoch(rng, tmp_path):
    x, y = regression_data(rng)
    path = tmp_path / "log.csv"
    history = small_net().fit(x, y, epochs=3, validation_split=0.25, callbacks=[CSVLogger(path)],
                              verbose=0)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["loss"]) for r in rows] == history.history["loss"]        # full precision
    assert [float(r["val_loss"]) for r in rows] == history.history["val_loss"]


def test_csv_logger_append_and_separator(rng, tmp_path):
    x, y = regression_data(rng)
    path = tmp_path / "log.tsv"
    net = small_net()
    net.fit(x, y, epochs=2, callbacks=[CSVLogger(path, separator="\t")], verbose=0)
    net.fit(x, y, epochs=4, initial_epoch=2, callbacks=[CSVLogger(path, separator="\t", append=True)],
            verbose=0)
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch\tloss" and [line.split("\t")[0] for line in lines[1:]] == ["0", "1", "2", "3"]
    net.fit(x, y, epochs=1, callbacks=[CSVLogger(path)], verbose=0)       # no append: replaced
    assert len(path.read_text().splitlines()) == 2


def test_csv_logger_unwritable_path(rng, tmp_path):
    x, y = regression_data(rng)
    with pytest.raises(ConfigError, match=r"CSVLogger cannot open .*missing.* for writing"):
        small_net().fit(x, y, epochs=1, callbacks=[CSVLogger(tmp_path / "missing" / "log.csv")], verbose=0)


# ---- ordering and the progress display -----------------------------------------------------

def test_history_records_what_user_callbacks_add_to_the_logs(rng):
    class AddsKey(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["twice_loss"] = 2 * logs["loss"]

    x, y = regression_data(rng)
    history = small_net().fit(x, y, epochs=2, callbacks=[AddsKey()], verbose=0)
    assert history.history["twice_loss"] == [2 * v for v in history.history["loss"]]


def run_bar(bar, epochs=2, steps=3):
    for epoch in range(epochs):
        bar.on_epoch_begin(epoch)
        for batch in range(steps):
            bar.on_batch_end(batch, {"size": 4, "loss": 1.0 / (batch + 1)})
        bar.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 0.25})
    bar.on_train_end()


def test_text_progress_bar():
    stream = io.StringIO()
    bar = ProgressBar(epochs=2, steps=3, stream=stream, use_tqdm=False, width=10, min_interval=0)
    assert not bar.uses_tqdm
    run_bar(bar)
    text = stream.getvalue()
    lines = text.split("\n")
    assert len(lines) == 3 and lines[2] == ""                        # one finished line per epoch
    assert "\repoch 1/2 [===>......] 1/3" in lines[0]               # partial bar, running loss
    assert "loss: 1 " not in lines[0] and "loss: 1\r" in lines[0]
    assert lines[0].endswith("- loss: 0.5 - val_loss: 0.25")
    assert "epoch 2/2 [==========] 3/3" in lines[1]


def test_tqdm_progress_bar():
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    bar = ProgressBar(epochs=2, steps=3, stream=stream)
    assert bar.uses_tqdm
    run_bar(bar)
    text = stream.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text and "3/3" in text
    assert "loss: 0.5 - val_loss: 0.25" in text


def test_tqdm_required_but_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'nnscratch\[progress\]'"):
        ProgressBar(epochs=1, steps=1, use_tqdm=True)
    assert not ProgressBar(epochs=1, steps=1).uses_tqdm          # falls back to the text bar


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_fit_shows_a_progress_bar_only_on_a_terminal(rng, monkeypatch):
    x, y = regression_data(rng)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setitem(sys.modules, "tqdm", None)                 # the text bar, for a stable check
    small_net().fit(x, y, epochs=2, batch_size=16, verbose=1)
    assert "\repoch 1/2 [" in terminal.getvalue() and "3/3" in terminal.getvalue()
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stdout", pipe)
    small_net().fit(x, y, epochs=2, batch_size=16, verbose=1)
    assert pipe.getvalue() == ""                                       # not a terminal: quiet
    small_net().fit(x, y, epochs=2, batch_size=16, verbose=2)
    assert "\r" not in pipe.getvalue() and pipe.getvalue().startswith("epoch 1/2 - loss:")
    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stdout", quiet)
    small_net().fit(x, y, epochs=2, verbose=0)
    assert quiet.getvalue() == ""


def test_an_overflowing_last_update_is_caught_and_undone(rng, no_warnings):
    x, y = regression_data(rng)
    net = small_net(lr=1e100, input_shape=(3,))
    before = net.get_weights()
    with pytest.raises(TrainingError, match=r"epoch 1, batch 1: the last update overflowed; the weights "
                                            r"were restored to those before the previous batch"):
        net.fit(x, y, epochs=1, verbose=0)                      # one batch: no later loss to see it
    assert_same_weights(net.get_weights(), before)                 # the epoch's starting point
