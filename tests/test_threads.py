"""nnscratch.threads: the BLAS policy, set_num_threads, and every kernel that splits its work
over threads against its one-thread reference path (the same numbers, exactly)."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import nnscratch as ns
from nnscratch import threads
from nnscratch.activations import get as get_activation
from nnscratch.errors import ConfigError
from nnscratch.layers.im2col import col2im, im2col
from nnscratch.layers.max_pooling import max_pool_backward, max_pool_forward


def blas_count():
    """The thread count of the BLAS that nnscratch controls (NumPy's; another one, such as
    SciPy's, may be loaded beside it)."""
    return threads._blas_get()


@pytest.fixture
def two_threads(monkeypatch):
    """Every split path on: two pool threads and no size floor."""
    monkeypatch.setattr(threads, "SPLIT_MIN", 1)
    monkeypatch.setattr(threads, "POOL", 2)
    yield


def reference(function, *args):
    """``function(*args)`` on one thread: the plain path."""
    before = threads.POOL
    threads.POOL = 1
    try:
        return function(*args)
    finally:
        threads.POOL = before


# -- split and the policy ------------------------------------------------------------------------

@pytest.mark.parametrize("count", [0, 1, 2, 5, 100])
@pytest.mark.parametrize("parts", [1, 2, 3])
def test_split_covers_every_index_once(count, parts):
    seen = np.zeros(count, dtype=int)

    def body(start, stop):
        seen[start:stop] += 1

    threads.split(count, body, elements=10**9, threads=parts)
    assert (seen == 1).all()


def test_split_passes_a_failure_on_after_every_part_ends():
    def body(start, stop):
        if start:
            raise ValueError("part failed")

    with pytest.raises(ValueError, match="part failed"):
        threads.split(10, body, elements=10**9, threads=2)
    seen = np.zeros(10, dtype=int)                   # the workers are still there afterwards

    def count(start, stop):
        seen[start:stop] += 1

    threads.split(10, count, elements=10**9, threads=3)
    assert (seen == 1).all()


def test_split_inside_a_split_and_from_two_threads_at_once_covers_every_index_once():
    import threading

    seen = np.zeros((4, 12), dtype=int)
    lock = threading.Lock()

    def inner(row):
        def body(start, stop):
            with lock:
                seen[row, start:stop] += 1
        return body

    def outer(start, stop):                          # each part splits again: runs in place
        for row in range(start, stop):
            threads.split(12, inner(row), elements=10**9, threads=2)

    callers = [threading.Thread(target=threads.split, args=(4, outer, 10**9, 2))
               for _ in range(2)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert (seen == 2).all()


@pytest.mark.parametrize("axes", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
def test_memory_order_finds_the_axes_of_a_transposed_block(axes):
    base = np.arange(24.0).reshape(2, 3, 4)
    view = base.transpose(axes)
    order = threads.memory_order(view)
    assert view.transpose(order).flags.c_contiguous
    assert threads.memory_order(base[:, :, ::2]) is None       # not one block


def test_elementwise_cuts_batch_last_views_in_memory_order():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((16, 13, 13, 64)).astype(np.float32)        # (C, H, W, N) memory
    b = rng.standard_normal((16, 13, 13, 64)).astype(np.float32)
    x, y = np.moveaxis(a, -1, 0), np.moveaxis(b, -1, 0)                 # (N, C, H, W) views
    out = np.empty_like(x)
    assert not out.flags.c_contiguous and threads.memory_order(out) is not None
    before = threads.POOL
    threads.POOL = 2
    try:
        threads.elementwise(np.add, out, x, y)
    finally:
        threads.POOL = before
    np.testing.assert_array_equal(out, x + y)


def test_small_work_takes_one_blas_thread_and_large_work_all():
    with threadpool_limits(2), threads.restored():
        assert threads.blas_threads_for(threads.BLAS_MIN_WORK - 1) == 1
        assert threads.blas_threads_for(threads.BLAS_MIN_WORK) == 2


def test_largest_product_counts_positions_per_layer_kind():
    dense = ns.Dense(8)
    dense.build((5, 4))                                   # (N, 5, 4): applied at 5 positions
    conv = ns.layers.Conv2D(2, 3)
    conv.build((1, 6, 6))                                 # 4 x 4 outputs per sample
    gru = ns.layers.GRU(3)
    gru.build((7, 2))                                     # one product of the state per step
    assert threads.largest_product([dense], 10) == 10 * 5 * (4 * 8 + 8)
    assert threads.largest_product([conv], 10) == 10 * 16 * (2 * 9 + 2)
    assert threads.largest_product([gru], 10) == 10 * sum(p.size for p in gru.params.values())
    assert threads.largest_product([ns.layers.Flatten()], 10) == 0


def test_fit_uses_one_blas_thread_for_a_small_model_and_puts_the_count_back():
    net = ns.Network([ns.Dense(4, activation="sigmoid"), ns.Dense(1)], loss="mse", seed=0)
    seen = []

    class Watch(ns.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(blas_count())

    x, y = np.zeros((8, 3)), np.zeros((8, 1))
    with threadpool_limits(2):
        net.fit(x, y, epochs=2, verbose=0, callbacks=[Watch()])
        assert blas_count() == 2                          # the caller's count after fit
        assert ns.get_num_threads() == 2
    assert seen == [1, 1]


def test_set_num_threads_fixes_the_count_and_none_gives_the_policy_back():
    with threadpool_limits(1):
        ns.set_num_threads(2)
        try:
            assert ns.get_num_threads() == 2 and blas_count() == 2
        finally:
            ns.set_num_threads(None)
        threadpool_limits(1)
        with ns.num_threads(3):
            assert ns.get_num_threads() == 3
        assert blas_count() == 1 and ns.get_num_threads() == 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, "two", True])
def test_set_num_threads_refuses_what_is_not_a_positive_count(bad):
    with pytest.raises(ConfigError):
        ns.set_num_threads(bad)


# -- the kernels: split against the reference ----------------------------------------------------

CONV_CASES = [((6, 3, 9, 8), (3, 2), (1, 2), (1, 1)), ((5, 2, 11), (3,), (2,), (2,))]


@pytest.mark.parametrize("shape, kernel, stride, dilation", CONV_CASES)
def test_im2col_and_col2im_in_parts_match_one_thread(two_threads, shape, kernel, stride, dilation):
    xp = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out_sizes = tuple((n - d * (k - 1) - 1) // s + 1
                      for n, k, s, d in zip(shape[2:], kernel, stride, dilation))
    cols = im2col(xp, kernel, stride, dilation, out_sizes)
    np.testing.assert_array_equal(cols, reference(im2col, xp, kernel, stride, dilation, out_sizes))
    back = col2im(cols, shape, kernel, stride, dilation, out_sizes)
    np.testing.assert_array_equal(back, reference(col2im, cols, shape, kernel, stride, dilation,
                                                  out_sizes))


@pytest.mark.parametrize("pool, stride", [((2, 2), (2, 2)), ((3, 3), (2, 2)), ((3, 2), (3, 2))])
def test_max_pool_in_parts_matches_one_thread(two_threads, pool, stride):
    rng = np.random.default_rng(1)
    xp = rng.standard_normal((7, 3, 9, 9)).astype(np.float32)
    xp[0, 0, :2, :2] = 0.0                                 # a tie: the first tap wins either way
    out = tuple((n - k) // s + 1 for n, k, s in zip(xp.shape[2:], pool, stride))
    y, arg = max_pool_forward(xp, pool, stride, out)
    y_ref, arg_ref = reference(max_pool_forward, xp, pool, stride, out)
    np.testing.assert_array_equal(y, y_ref)
    np.testing.assert_array_equal(arg, arg_ref)
    grad = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_array_equal(max_pool_backward(grad, arg, xp.shape, pool, stride),
                                  reference(max_pool_backward, grad, arg, xp.shape, pool, stride))


def test_relu_in_parts_matches_one_thread(two_threads):
    relu = get_activation("relu")
    rng = np.random.default_rng(2)
    z = rng.standard_normal((33, 17)).astype(np.float32)
    z[0, :3] = 0.0                                         # the subgradient 0 at z = 0
    g = rng.standard_normal(z.shape).astype(np.float32)
    a = relu.forward(z)
    np.testing.assert_array_equal(a, reference(relu.forward, z))
    np.testing.assert_array_equal(a, np.maximum(z, 0))
    np.testing.assert_array_equal(relu.backward(z, a, g), reference(relu.backward, z, a, g))
    np.testing.assert_array_equal(relu.backward(z, a, g), g * (z > 0))


@pytest.mark.parametrize("make", [
    lambda: ns.optimizers.Adam(learning_rate=0.01, weight_decay=0.1),
    lambda: ns.optimizers.Adam(learning_rate=0.01, amsgrad=True),
    lambda: ns.optimizers.AdamW(learning_rate=0.01),
    lambda: ns.optimizers.Adamax(learning_rate=0.01),
    lambda: ns.optimizers.Adagrad(learning_rate=0.01, weight_decay=0.1),
])
def test_optimizer_updates_in_parts_match_one_thread(two_threads, make):
    start = np.random.default_rng(3).standard_normal((41, 13)).astype(np.float32)
    results = []
    for threads_count in (2, 1):
        param = start.copy()
        grad = np.zeros_like(param)
        optimizer = make()
        threads.POOL = threads_count
        for step in range(3):
            grad[...] = np.sin(param * (step + 1))
            optimizer.step([("w", param, grad)])
        results.append(param)
    np.testing.assert_array_equal(results[0], results[1])


def test_a_setting_changed_between_steps_reaches_every_thread(two_threads):
    """The worker threads' copies of the optimizer follow a hyperparameter changed after they
    were made (as a user's callback may change weight_decay)."""
    start = np.random.default_rng(7).standard_normal((41, 13)).astype(np.float32)
    results = []
    for threads_count in (2, 1):
        param, grad = start.copy(), np.cos(start)
        optimizer = ns.optimizers.Adam(learning_rate=0.01)
        threads.POOL = threads_count
        for step in range(3):
            optimizer.weight_decay = 0.1 * step
            optimizer.step([("w", param, grad)])
        results.append(param)
    np.testing.assert_array_equal(results[0], results[1])


def test_pool_waits_while_the_blas_has_several_threads():
    with threadpool_limits(2):
        assert threads.pool_threads() == 1
    with threadpool_limits(1):
        assert threads.pool_threads() == 1                  # the allowed count: one
        with ns.num_threads(1):
            assert threads.pool_threads() == 1


def test_training_with_two_threads_matches_one_thread(monkeypatch):
    """A small CNN trained with every split path on learns the same weights as on one thread."""
    monkeypatch.setattr(threads, "SPLIT_MIN", 1)
    monkeypatch.setattr(threads, "POOL", None)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((24, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 3, 24)
    weights = []
    for count in (2, 1):
        net = ns.Network([ns.layers.Conv2D(4, 3, activation="relu"), ns.layers.MaxPool2D(2),
                          ns.layers.Flatten(), ns.Dense(3, activation="softmax")],
                         loss="sparse_categorical_crossentropy", optimizer="adam", seed=0)
        threads.POOL = count
        net.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=1)
        weights.append(net.get_weights())
    for key in weights[0]:
        np.testing.assert_allclose(weights[0][key], weights[1][key], rtol=1e-6, atol=1e-7)


def test_recurrent_input_of_one_feature_matches_the_matrix_product():
    """One input feature takes a broadcast product instead of x @ W_ih^T: the same result as
    the product path, taken here with a second feature of zeros."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 9, 1))
    for cls in (ns.layers.GRU, ns.layers.LSTM, ns.layers.SimpleRNN):
        one = cls(4, return_sequences=True)
        one.build((9, 1), rng=np.random.default_rng(0), dtype=np.float64)
        two = cls(4, return_sequences=True)
        two.build((9, 2), rng=np.random.default_rng(0), dtype=np.float64)
        for key, value in one.params.items():
            two.params[key][...] = (np.concatenate([value, np.zeros_like(value)], axis=1)
                                    if key == "W_ih" else value)
        padded = np.concatenate([x, np.zeros_like(x)], axis=2)
        np.testing.assert_allclose(one.forward(x, True), two.forward(padded, True), rtol=1e-12)
        g = rng.standard_normal((6, 9, 4))
        np.testing.assert_allclose(one.backward(g), two.backward(g)[..., :1], rtol=1e-10,
                                   atol=1e-14)
        np.testing.assert_allclose(one.grads["W_hh"], two.grads["W_hh"], rtol=1e-10)


def test_erf_in_parts_matches_one_thread(two_threads, monkeypatch):
    from nnscratch.activations import error_function
    monkeypatch.setattr(error_function, "_BLOCK", 7)           # several blocks on a small array
    x = np.random.default_rng(6).uniform(-6, 6, 100)
    for function in (error_function.erf, error_function.erfc):
        np.testing.assert_array_equal(function(x), reference(function, x))
    gelu = get_activation("gelu")
    np.testing.assert_array_equal(gelu.forward(x), reference(gelu.forward, x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_erf_through_scipy_matches_the_numpy_reference(monkeypatch, dtype):
    pytest.importorskip("scipy")
    from nnscratch.activations import error_function
    x = np.concatenate([np.linspace(-30, 30, 20001), np.geomspace(1e-30, 10, 500),
                        [0.0, 0.46875, 4.0, -4.0, 1e4, -1e4]]).astype(dtype)
    got = {}
    for use in (True, False):
        monkeypatch.setattr(error_function, "USE_SCIPY", use)
        got[use] = (error_function.erf(x), error_function.erfc(x))
    # both within float rounding of the true values (1e-13 in float64, as test_erf_against_math
    # asks of the reference, far into the tail)
    rtol = 1e-13 if dtype == np.float64 else 64 * np.finfo(dtype).eps
    for fast, plain in zip(got[True], got[False]):
        assert fast.dtype == plain.dtype == dtype
        np.testing.assert_allclose(fast, plain, rtol=rtol, atol=np.finfo(dtype).tiny)
        assert ((fast == 0) == (plain == 0)).all()            # the same flushed tail


def test_set_num_threads_none_gives_back_the_count_from_before_fixing():
    with threadpool_limits(2):
        net = ns.Network([ns.Dense(2)], loss="mse", seed=0)
        ns.set_num_threads(1)
        try:
            net.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)    # runs with the BLAS at 1
        finally:
            ns.set_num_threads(None)
        assert blas_count() == 2 and ns.get_num_threads() == 2
