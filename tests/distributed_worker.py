"""Scenarios of data-parallel training, run under ``mpiexec -n P python distributed_worker.py``.

``python distributed_worker.py OUT SCENARIO[,SCENARIO...]`` runs each scenario on every rank
and writes ``OUT/<scenario>-<rank>.npz`` (the trained weights and the logged history);
tests/test_distributed.py compares them with one process trained on the global batch, built by
the same functions of this module.
"""

import os
import signal
import sys
import time

import numpy as np

import nnscratch as ns

FEATURES, CLASSES = 6, 3


def data(n, seed=0):
    """``n`` float64 samples of FEATURES features and a class label each."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, FEATURES))
    y = np.argmax(x @ rng.standard_normal((FEATURES, CLASSES)), axis=1)
    return x, y


def network(batch_norm=None, seed=3):
    """A small float64 MLP with Adam (optionally a batch normalization after the first layer)."""
    layers = [ns.Dense(16, activation="tanh")]
    if batch_norm is not None:
        layers.append(batch_norm(momentum=0.9, name="norm"))
    layers += [ns.Dense(8, activation="relu"), ns.Dense(CLASSES, activation="softmax")]
    return ns.Network(layers, loss="sparse_categorical_crossentropy",
                      optimizer=ns.optimizers.Adam(learning_rate=0.01), metrics=["accuracy"],
                      seed=seed, dtype="float64", input_shape=(FEATURES,))


def graph_model(seed=3):
    """A graph model: two branches of the input joined, then a softmax head."""
    inputs = ns.Input((FEATURES,))
    a = ns.Dense(12, activation="tanh")(inputs)
    b = ns.Dense(12, activation="relu")(inputs)
    outputs = ns.Dense(CLASSES, activation="softmax")(ns.Concatenate()([a, b]))
    return ns.Model(inputs, outputs, loss="sparse_categorical_crossentropy",
                    optimizer=ns.optimizers.Adam(learning_rate=0.01), metrics=["accuracy"],
                    seed=seed, dtype="float64")


def fit_arrays(model, n, batch_size, epochs=2, validation=True):
    """fit on ``data(n)`` (validation on ``data(100, seed=1)``), shuffled with seed 5."""
    x, y = data(n)
    val = data(101, seed=1) if validation else None
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, seed=5, verbose=0,
                     validation_data=val)


def batches_of(n, size, seed=0):
    """A list of ``(x, y)`` batches of ``size`` rows cut from ``data(n)``."""
    x, y = data(n, seed)
    return [(x[i:i + size], y[i:i + size]) for i in range(0, n, size)]


def _result(model, history):
    out = {f"w:{k}": v for k, v in model.get_weights().items()}
    out.update({f"h:{k}": np.array(v) for k, v in history.history.items()})
    return out


# -- scenarios: each returns the arrays to write ----------------------------------------------

def equivalence(nd, per_rank=None):
    """Network on arrays: ``per_rank`` rows per rank (default 128 / size), 1280 samples, 2
    epochs: 20 Adam steps of a global batch of 128."""
    model = nd.distribute(network())
    history = fit_arrays(model, 1280, per_rank or 128 // nd.size())
    return _result(model, history)


def remainder(nd):
    """1290 samples in global batches of 128: the last batch of each epoch holds 10."""
    model = nd.distribute(network())
    history = fit_arrays(model, 1290, 128 // nd.size())
    return _result(model, history)


def graph_dataset(nd):
    """A graph model fit from a Dataset (each rank reads its own indices)."""
    model = nd.distribute(graph_model())
    x, y = data(600)
    history = model.fit(ns.data.ArrayDataset(x, y), epochs=2, batch_size=64 // nd.size(),
                        seed=5, verbose=0, validation_data=data(101, seed=1))
    return _result(model, history)


def iterable(nd):
    """A Network fit from a list of batches (each rank prepares every size-th batch)."""
    model = nd.distribute(network())
    history = model.fit(batches_of(500, 50), epochs=2, verbose=0,
                        validation_data=batches_of(120, 40, seed=1))
    return _result(model, history)


def sync_bn(nd):
    """SyncBatchNormalization: the statistics of the global batch."""
    model = nd.distribute(network(nd.SyncBatchNormalization))
    return _result(model, fit_arrays(model, 640, 64 // nd.size()))


def local_bn(nd):
    """Plain BatchNormalization: per-rank statistics, running ones averaged at epoch ends."""
    model = nd.distribute(network(ns.layers.BatchNormalization))
    return _result(model, fit_arrays(model, 640, 64 // nd.size()))


def callbacks(nd, out):
    """CSVLogger and a rank_zero_only callback on rank 0 only; EarlyStopping everywhere."""
    class Marker(ns.callbacks.Callback):
        rank_zero_only = True

        def on_train_end(self, logs=None):
            open(os.path.join(out, f"marker-{nd.rank()}"), "w").close()

    model = nd.distribute(network())
    logger = ns.callbacks.CSVLogger(os.path.join(out, f"log-{nd.rank()}.csv"))
    stop = ns.callbacks.EarlyStopping(monitor="val_loss", patience=0, min_delta=1.0)
    x, y = data(256)
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=2, seed=5,
                        validation_data=data(101, seed=1), callbacks=[logger, Marker(), stop])
    return _result(model, history)


def resume(nd, out):
    """Unseeded weights (rank 0's win), 2 epochs, a checkpoint written by rank 0 and loaded
    by every rank, 2 more epochs; against 4 epochs straight from the same weights."""
    path = os.path.join(out, "resume.nns")
    model = nd.distribute(network(seed=None))
    start = model.get_weights()
    fit_arrays(model, 640, 32, epochs=2)
    if nd.rank() == 0:
        model.save(path)
    nd.barrier()
    resumed = nd.distribute(ns.load(path))
    x, y = data(640)
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=32, verbose=0)
    straight = network(seed=None)
    straight.set_weights(start)
    fit_arrays(nd.distribute(straight), 640, 32, epochs=4, validation=False)
    result = {f"w:{k}": v for k, v in resumed.get_weights().items()}
    result.update({f"s:{k}": v for k, v in straight.get_weights().items()})
    return result


def two_outputs(seed=3):
    """A graph model with two outputs (a class and a number), each with its loss and metric."""
    inputs = ns.Input((FEATURES,))
    h = ns.Dense(12, activation="tanh")(inputs)
    label = ns.Dense(CLASSES, activation="softmax", name="label")(h)
    value = ns.Dense(1, name="value")(h)
    return ns.Model(inputs, {"label": label, "value": value},
                    loss={"label": "sparse_categorical_crossentropy", "value": "mse"},
                    metrics={"label": ["accuracy"], "value": ["r2"]},
                    optimizer=ns.optimizers.Adam(learning_rate=0.01), seed=seed, dtype="float64")


def two_targets(n, seed=0):
    x, y = data(n, seed)
    return x, {"label": y, "value": x[:, :1] * 2.0}


def several_outputs(nd):
    """Two outputs: per-output losses and an R2 metric summed and gathered over the ranks."""
    model = nd.distribute(two_outputs())
    x, y = two_targets(300)
    history = model.fit(x, y, epochs=2, batch_size=64 // nd.size(), seed=5, verbose=0,
                        validation_data=two_targets(101, seed=1))
    return _result(model, history)


def frozen(nd):
    """A frozen first layer: the parameters are not packed, the gradients go one by one."""
    model = network()
    model.layers[0].trainable = False
    model = nd.distribute(model)
    return _result(model, fit_arrays(model, 640, 64 // nd.size()))


def unbuilt(nd):
    """An unseeded Network without input_shape, fit from a Dataset: built by the first batch,
    on every rank with weights of its own, then rank 0's broadcast before the first step."""
    model = nd.distribute(ns.Network([ns.Dense(8, activation="tanh"), ns.Dense(CLASSES)],
                                     loss="sparse_categorical_crossentropy", dtype="float64"))
    x, y = data(256)
    return _result(model, model.fit(ns.data.ArrayDataset(x, y), batch_size=32, verbose=0))


def stop(nd, out, how):
    """Rank 1 dies (``kill``), hangs (``hang``) or raises (``raise``) at the third step."""
    class Trouble(ns.callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            if batch == 2 and nd.rank() == 1:
                if how == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                elif how == "hang":
                    time.sleep(3600)
                else:
                    raise RuntimeError("rank 1 fails on purpose")

    nd.init(timeout=2.0)
    model = nd.distribute(network())
    x, y = data(640)
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[Trouble()])
    return {}


def main(out, scenarios):
    import nnscratch.distributed as nd
    nd.init(timeout=60.0)
    for name in scenarios.split(","):
        if name.startswith("stop-"):
            result = stop(nd, out, name[5:])
        elif name in ("callbacks", "resume"):
            result = globals()[name](nd, out)
        else:
            result = globals()[name](nd)
        np.savez(os.path.join(out, f"{name}-{nd.rank()}.npz"), **result)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
