"""Checkpoint and resume: a run reloaded from its epoch-k file ends bit-identical to the full run.

Training draws on more than the weights: the optimizer's moments and step count, the
mini-batch shuffling generator, the dropout masks' generator and the batch-normalisation
running statistics. A checkpoint (``include_optimizer=True``) holds them all, so reloading
the file of epoch k and fitting on to epoch N with ``initial_epoch=k`` must give the very same
bits as training N epochs in one go.
"""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.saving import training_state

N_EPOCHS = 6


def mlp():
    return ns.Network([ns.Dense(12, activation="relu"), ns.Dropout(0.3),
                       ns.BatchNormalization(momentum=0.8), ns.Dense(3, activation="softmax")],
                      loss="categorical_crossentropy", metrics=["accuracy"], seed=7,
                      optimizer=ns.optimizers.Adam(learning_rate=0.01))


def recurrent():
    schedule = ns.schedules.StepDecay(0.05, step_size=5, gamma=0.5)
    return ns.Network([ns.GRU(4, return_sequences=True), ns.Dropout(0.2), ns.LSTM(3),
                       ns.Dense(3, activation="softmax")], loss="categorical_crossentropy",
                      dtype="float64", seed=11,
                      optimizer=ns.optimizers.SGD(learning_rate=schedule, momentum=0.9,
                                                  nesterov=True))


def data(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 5) if kind is mlp else (30, 4, 2))
    labels = np.argmax(x.reshape(30, -1)[:, :3], axis=1)
    return x, ns.data.one_hot(labels, 3)


def assert_same_training_state(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert list(wa) == list(wb)
    for key in wa:
        assert wa[key].dtype == wb[key].dtype and wa[key].tobytes() == wb[key].tobytes(), key
    assert a.optimizer.iterations == b.optimizer.iterations
    assert a.optimizer.state.keys() == b.optimizer.state.keys()
    for name, state in a.optimizer.state.items():
        for key, value in state.items():
            assert np.asarray(value).tobytes() == np.asarray(b.optimizer.state[name][key]).tobytes()
    ga, gb = training_state.generators(a), training_state.generators(b)
    assert {k: g.bit_generator.state for k, g in ga.items()} == {
        k: g.bit_generator.state for k, g in gb.items()}


@pytest.mark.parametrize("make", [mlp, recurrent], ids=["mlp-adam-dropout-bn", "rnn-sgd-schedule"])
def test_resuming_from_any_checkpoint_is_bit_identical(make, tmp_path):
    x, y = data(make)
    full = make()
    checkpoint = ns.callbacks.ModelCheckpoint(filepath=str(tmp_path / "ckpt-{epoch:03d}.nns"))
    history = full.fit(x, y, epochs=N_EPOCHS, batch_size=8, callbacks=[checkpoint], verbose=0)
    assert len(checkpoint.saved_paths) == N_EPOCHS

    for k in (1, 3, 5):
        resumed = ns.load(tmp_path / f"ckpt-{k:03d}.nns")
        assert resumed.epochs_trained == k
        rest = resumed.fit(x, y, epochs=N_EPOCHS, initial_epoch=k, batch_size=8, verbose=0)
        assert rest.epoch == list(range(k, N_EPOCHS))
        assert rest.history["loss"] == history.history["loss"][k:]
        assert resumed.epochs_trained == N_EPOCHS
        assert_same_training_state(full, resumed)
        assert full.predict(x).tobytes() == resumed.predict(x).tobytes()


def test_without_the_training_state_the_run_differs(tmp_path):
    """The check above is not vacuous: weights alone do not resume the same run."""
    x, y = data(mlp)
    full = mlp()
    full.fit(x, y, epochs=2, batch_size=8, verbose=0)
    full.save(tmp_path / "with.nns")
    full.save(tmp_path / "without.nns", include_optimizer=False)
    full.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
    outcomes = []
    for name in ("with", "without"):
        net = ns.load(tmp_path / f"{name}.nns")
        net.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0)
        outcomes.append(all(np.array_equal(v, net.get_weights()[k])
                            for k, v in full.get_weights().items()))
    assert outcomes == [True, False]


def test_save_after_each_epoch_by_hand(tmp_path):
    """The same with plain ``net.save`` between one-epoch ``fit`` calls."""
    x, y = data(mlp)
    full = mlp()
    full.fit(x, y, epochs=4, batch_size=8, verbose=0)
    net = mlp()
    for epoch in range(4):
        net.fit(x, y, epochs=epoch + 1, initial_epoch=epoch, batch_size=8, verbose=0)
        net.save(tmp_path / "last.nns")
        net = ns.load(tmp_path / "last.nns")
    assert_same_training_state(full, net)
