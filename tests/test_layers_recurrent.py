"""SimpleRNN, LSTM, GRU and Bidirectional: plain-loop references, gradient checks, errors."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, DataTypeError, ShapeError
from nnscratch.gradcheck import check_layer, check_network, numerical_gradient, relative_error
from nnscratch.layers.base import LAYER_CLASSES

CELLS = {"SimpleRNN": ns.SimpleRNN, "LSTM": ns.LSTM, "GRU": ns.GRU}


# --------------------------------------------------------------------------------------------
# Plain-loop reference: one sample, one time step and one gate at a time, no batching.
# --------------------------------------------------------------------------------------------

def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _blocks(p, k, H):
    """Gate k's rows of W_ih, W_hh, b_ih, b_hh."""
    rows = slice(k * H, (k + 1) * H)
    return p["W_ih"][rows], p["W_hh"][rows], p["b_ih"][rows], p["b_hh"][rows]


def _pre(p, k, H, x_t, h):
    W_i, W_h, b_i, b_h = _blocks(p, k, H)
    return W_i @ x_t + b_i, W_h @ h + b_h


def reference(kind, p, x, dy, return_sequences, h0=None, c0=None, go_backwards=False):
    """Output, input gradient, parameter gradients and initial-state gradients, by loops."""
    N, T, F = x.shape
    H = p["W_hh"].shape[1]
    h0 = np.zeros((N, H)) if h0 is None else h0
    c0 = np.zeros((N, H)) if c0 is None else c0
    order = list(range(T))[::-1] if go_backwards else list(range(T))
    y = np.zeros((N, T, H)) if return_sequences else np.zeros((N, H))
    dx = np.zeros_like(x)
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    dh0, dc0 = np.zeros((N, H)), np.zeros((N, H))
    for n in range(N):
        # ---- forward, remembering every quantity of every step
        h, c = h0[n].copy(), c0[n].copy()
        steps = []
        for s, t in enumerate(order):
            x_t = x[n, t]
            rec = {"h_prev": h, "c_prev": c}
            if kind == "SimpleRNN":
                xi, hh = _pre(p, 0, H, x_t, h)
                h = np.tanh(xi + hh)
            elif kind == "LSTM":
                i = _sig(sum(_pre(p, 0, H, x_t, h)))
                f = _sig(sum(_pre(p, 1, H, x_t, h)))
                g = np.tanh(sum(_pre(p, 2, H, x_t, h)))
                o = _sig(sum(_pre(p, 3, H, x_t, h)))
                c = f * c + i * g
                h = o * np.tanh(c)
                rec.update(i=i, f=f, g=g, o=o, c=c)
            else:
                r = _sig(sum(_pre(p, 0, H, x_t, h)))
                z = _sig(sum(_pre(p, 1, H, x_t, h)))
                xn, hn = _pre(p, 2, H, x_t, h)
                cand = np.tanh(xn + r * hn)
                h = (1 - z) * cand + z * h
                rec.update(r=r, z=z, n=cand, hn=hn)
            rec.update(h=h, t=t, x=x_t)
            steps.append(rec)
            if return_sequences:
                y[n, s] = h
        if not return_sequences:
            y[n] = h
        # ---- backward through time
        dh_next, dc_next = np.zeros(H), np.zeros(H)
        for s in reversed(range(T)):
            rec = steps[s]
            dh = dh_next + (dy[n, s] if return_sequences else (dy[n] if s == T - 1 else 0.0))
            dh_next = np.zeros(H)
            if kind == "SimpleRNN":
                das = {0: (dh * (1 - rec["h"] ** 2), None)}
            elif kind == "LSTM":
                tc = np.tanh(rec["c"])
                do = dh * tc
                dc = dc_next + dh * rec["o"] * (1 - tc ** 2)
                di, df, dg = dc * rec["g"], dc * rec["c_prev"], dc * rec["i"]
                dc_next = dc * rec["f"]
                das = {0: (di * rec["i"] * (1 - rec["i"]), None),
                       1: (df * rec["f"] * (1 - rec["f"]), None),
                       2: (dg * (1 - rec["g"] ** 2), None),
                       3: (do * rec["o"] * (1 - rec["o"]), None)}
            else:
                dn = dh * (1 - rec["z"])
                dz = dh * (rec["h_prev"] - rec["n"])
                dh_next += dh * rec["z"]
                dan = dn * (1 - rec["n"] ** 2)
                dr = dan * rec["hn"]
                das = {0: (dr * rec["r"] * (1 - rec["r"]), None),
                       1: (dz * rec["z"] * (1 - rec["z"]), None),
                       2: (dan, dan * rec["r"])}          # (input side, recurrent side)
            for k, (da_x, da_h) in das.items():
                da_h = da_x if da_h is None else da_h
                rows = slice(k * H, (k + 1) * H)
                W_i, W_h, _, _ = _blocks(p, k, H)
                for a in range(H):
                    for b in range(F):
                        grads["W_ih"][rows][a, b] += da_x[a] * rec["x"][b]
                    for b in range(H):
                        grads["W_hh"][rows][a, b] += da_h[a] * rec["h_prev"][b]
                grads["b_ih"][rows] += da_x
                grads["b_hh"][rows] += da_h
                dx[n, rec["t"]] += W_i.T @ da_x
                dh_next += W_h.T @ da_h
        dh0[n], dc0[n] = dh_next, dc_next
    return y, dx, grads, dh0, dc0


def _layer(kind, units, features, steps, rng, **kwargs):
    layer = CELLS[kind](units, **kwargs)
    layer.build((steps, features), rng=rng, dtype=np.float64)
    for value in layer.params.values():     # non-trivial biases too
        value[...] = rng.uniform(-0.8, 0.8, value.shape)
    return layer


# --------------------------------------------------------------------------------------------
# Fast kernel == plain loops
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_plain_loop_reference(kind, return_sequences, with_state, go_backwards, rng):
    N, T, F, H = 3, 4, 2, 3
    layer = _layer(kind, H, F, T, rng, return_sequences=return_sequences,
                   go_backwards=go_backwards)
    x = rng.standard_normal((N, T, F))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    state = None
    if with_state:
        state = (h0, c0) if kind == "LSTM" else h0
    y = layer.forward(x, initial_state=state)
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)
    ref_y, ref_dx, ref_grads, ref_dh0, ref_dc0 = reference(
        kind, layer.params, x, dy, return_sequences, h0 if with_state else None,
        c0 if with_state and kind == "LSTM" else None, go_backwards)
    np.testing.assert_allclose(y, ref_y, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, ref_dx, rtol=0, atol=1e-10)
    for key in ("W_ih", "W_hh", "b_ih", "b_hh"):
        np.testing.assert_allclose(layer.grads[key], ref_grads[key], rtol=0, atol=1e-10)
    if kind == "LSTM":
        dh0, dc0 = layer.grad_initial_state
        np.testing.assert_allclose(dc0, ref_dc0, rtol=0, atol=1e-10)
    else:
        dh0 = layer.grad_initial_state
    np.testing.assert_allclose(dh0, ref_dh0, rtol=0, atol=1e-10)


def _bidirectional_reference(bi, kind, x, dy, merge_mode, return_sequences):
    """Both directions by the plain-loop reference, merged and split by hand."""
    def params(prefix):
        return {k: bi.params[prefix + k] for k in ("W_ih", "W_hh", "b_ih", "b_hh")}

    zeros = np.zeros(dy.shape[:-1] + (bi.forward_layer.units,))
    y_f = reference(kind, params("forward_"), x, zeros, return_sequences)[0]
    y_b = reference(kind, params("backward_"), x, zeros, return_sequences, go_backwards=True)[0]
    if return_sequences:
        y_b = y_b[:, ::-1]
    units = y_f.shape[-1]
    y = {"concat": np.concatenate([y_f, y_b], -1), "sum": y_f + y_b, "mul": y_f * y_b,
         "ave": (y_f + y_b) / 2}[merge_mode]
    if merge_mode == "concat":
        g_f, g_b = dy[..., :units], dy[..., units:]
    elif merge_mode == "mul":
        g_f, g_b = dy * y_b, dy * y_f
    else:
        g_f = g_b = dy if merge_mode == "sum" else dy / 2
    if return_sequences:
        g_b = g_b[:, ::-1]
    _, dx_f, grads_f, _, _ = reference(kind, params("forward_"), x, g_f, return_sequences)
    _, dx_b, grads_b, _, _ = reference(kind, params("backward_"), x, g_b, return_sequences,
                                       go_backwards=True)
    grads = {**{"forward_" + k: v for k, v in grads_f.items()},
             **{"backward_" + k: v for k, v in grads_b.items()}}
    return y, dx_f + dx_b, grads


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_matches_plain_loop_reference(kind, merge_mode, return_sequences, rng):
    N, T, F, H = 2, 4, 3, 2
    bi = ns.Bidirectional(CELLS[kind](H, return_sequences=return_sequences),
                          merge_mode=merge_mode)
    bi.build((T, F), rng=rng, dtype=np.float64)
    for value in bi.params.values():
        value[...] = rng.uniform(-0.8, 0.8, value.shape)
    x = rng.standard_normal((N, T, F))
    y = bi.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = bi.backward(dy)
    ref_y, ref_dx, ref_grads = _bidirectional_reference(bi, kind, x, dy, merge_mode,
                                                        return_sequences)
    np.testing.assert_allclose(y, ref_y, rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, ref_dx, rtol=0, atol=1e-10)
    assert set(bi.grads) == set(ref_grads)
    for key, value in ref_grads.items():
        np.testing.assert_allclose(bi.grads[key], value, rtol=0, atol=1e-10, err_msg=key)


def test_bidirectional_initial_state_goes_to_each_direction(rng):
    N, T, F, H = 2, 3, 2, 3
    bi = ns.Bidirectional(ns.LSTM(H, return_sequences=True), merge_mode="sum")
    bi.build((T, F), rng=rng, dtype=np.float64)
    x = rng.standard_normal((N, T, F))
    states = [rng.standard_normal((N, H)) for _ in range(4)]     # h_f, c_f, h_b, c_b
    y = bi.forward(x, initial_state=states)
    y_f = bi.forward_layer.forward(x, initial_state=tuple(states[:2]))
    y_b = bi.backward_layer.forward(x, initial_state=tuple(states[2:]))
    np.testing.assert_allclose(y, y_f + y_b[:, ::-1], rtol=0, atol=1e-14)
    bi.forward(x, initial_state=states)
    bi.backward(np.ones_like(y))
    assert len(bi.grad_initial_state) == 4 and len(bi.final_state) == 4

    def loss():
        return float(np.sum(bi.forward(x, initial_state=states)))

    for state, grad in zip(states, bi.grad_initial_state):
        assert relative_error(grad, numerical_gradient(loss, state)) < 1e-7


# --------------------------------------------------------------------------------------------
# Independent implementation: ONNX Runtime's RNN, LSTM and GRU operators
# --------------------------------------------------------------------------------------------

def _onnx_sequence(op, W, R, B, x, states, **attributes):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper

    N, T, F = x.shape
    H = R.shape[-1]
    names = ["H0", "C0"][:len(states)]
    node = helper.make_node(op, ["X", "W", "R", "B", "", *names], ["Y"], hidden_size=H,
                            **attributes)
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, [T, N, F])]
    inputs += [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, N, H]) for name in names]
    graph = helper.make_graph(
        [node], "rnn", inputs, [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(a[None].astype(np.float32), k) for a, k in ((W, "W"), (R, "R"),
                                                                              (B, "B"))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"X": np.ascontiguousarray(x.transpose(1, 0, 2))}
    feeds.update({name: s[None] for name, s in zip(names, states)})
    (y,) = session.run(None, feeds)          # (T, directions, N, H)
    return y[:, 0].transpose(1, 0, 2)


@pytest.mark.parametrize("kind, op, onnx_order, attributes", [
    ("SimpleRNN", "RNN", [0], {}),
    ("LSTM", "LSTM", [0, 3, 1, 2], {}),                       # ONNX stacks i, o, f, c
    ("GRU", "GRU", [1, 0, 2], {"linear_before_reset": 1}),    # ONNX stacks z, r, h
])
def test_forward_agrees_with_onnxruntime_operators(kind, op, onnx_order, attributes, rng):
    N, T, F, H = 3, 5, 4, 6
    layer = CELLS[kind](H, return_sequences=True)
    layer.build((T, F), rng=rng, dtype=np.float32)
    for value in layer.params.values():
        value[...] = rng.uniform(-1, 1, value.shape)
    x = rng.standard_normal((N, T, F)).astype(np.float32)
    states = [rng.standard_normal((N, H)).astype(np.float32)
              for _ in range(2 if kind == "LSTM" else 1)]
    y = layer.forward(x, initial_state=tuple(states) if kind == "LSTM" else states[0])

    def reorder(a):
        blocks = np.split(a, len(onnx_order), axis=0)
        return np.concatenate([blocks[k] for k in onnx_order], axis=0)

    p = layer.params
    expected = _onnx_sequence(op, reorder(p["W_ih"]), reorder(p["W_hh"]),
                              np.concatenate([reorder(p["b_ih"]), reorder(p["b_hh"])]), x,
                              states, **attributes)
    np.testing.assert_allclose(y, expected, rtol=0, atol=2e-5)


# --------------------------------------------------------------------------------------------
# Gradient checks: input and every parameter, every option
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_gradient_check_every_option(kind, return_sequences, use_bias, go_backwards, rng):
    layer = CELLS[kind](3, return_sequences=return_sequences, use_bias=use_bias,
                        go_backwards=go_backwards)
    errors = check_layer(layer, rng.standard_normal((2, 4, 2)))
    expected = {"input", "W_ih", "W_hh"} | ({"b_ih", "b_hh"} if use_bias else set())
    assert set(errors) == expected


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "softsign"])
def test_simple_rnn_other_activations_gradient_check(activation, rng):
    layer = ns.SimpleRNN(3, activation=activation, return_sequences=True)
    check_layer(layer, rng.standard_normal((2, 3, 2)) + 0.1)
    assert layer.get_config()["activation"]["name"] == activation


@pytest.mark.parametrize("kind", list(CELLS))
def test_initial_state_gradient_matches_finite_differences(kind, rng):
    N, T, F, H = 2, 3, 2, 3
    layer = _layer(kind, H, F, T, rng, return_sequences=True)
    x = rng.standard_normal((N, T, F))
    states = [rng.standard_normal((N, H)) for _ in range(2 if kind == "LSTM" else 1)]
    packed = tuple(states) if kind == "LSTM" else states[0]
    projection = rng.standard_normal((N, T, H))
    layer.forward(x, initial_state=packed)
    layer.backward(projection)
    grads = layer.grad_initial_state if kind == "LSTM" else (layer.grad_initial_state,)

    def loss():
        return float(np.sum(layer.forward(x, initial_state=packed) * projection))

    for state, grad in zip(states, grads):
        assert relative_error(grad, numerical_gradient(loss, state)) < 1e-7


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_bidirectional_gradient_check(merge_mode, return_sequences, kind, rng):
    bi = ns.Bidirectional(CELLS[kind](2, return_sequences=return_sequences),
                          merge_mode=merge_mode)
    errors = check_layer(bi, rng.standard_normal((2, 3, 2)))
    assert {"forward_W_ih", "backward_W_hh", "backward_b_ih"} <= set(errors)


def test_embedding_lstm_dense_network_gradient_check(rng):
    net = ns.Network([ns.Embedding(6, 3), ns.LSTM(4), ns.Dense(2)], loss="mse",
                     dtype="float64", seed=0)
    ids = rng.integers(0, 6, (3, 4))
    errors = check_network(net, ids, rng.standard_normal((3, 2)))
    assert {"embedding_0.W", "lstm_1.W_ih", "lstm_1.W_hh", "lstm_1.b_ih", "dense_2.W"} <= set(errors)
    assert errors["input"] == 0.0


def test_stacked_bidirectional_network_gradient_check(rng):
    net = ns.Network([ns.Bidirectional(ns.GRU(2, return_sequences=True)), ns.SimpleRNN(2),
                      ns.Dense(1)], loss="mse", dtype="float64", seed=1)
    check_network(net, rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 1)))


# --------------------------------------------------------------------------------------------
# Parameters, state, dtype, numerics
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, gates", [("SimpleRNN", 1), ("LSTM", 4), ("GRU", 3)])
def test_parameter_shapes_follow_pytorch(kind, gates, rng):
    layer = CELLS[kind](5)
    layer.build((7, 3), rng=rng)
    shapes = {k: v.shape for k, v in layer.params.items()}
    assert shapes == {"W_ih": (gates * 5, 3), "W_hh": (gates * 5, 5), "b_ih": (gates * 5,),
                      "b_hh": (gates * 5,)}
    # orthogonal recurrent kernel (Keras's default): orthonormal columns
    W_hh = layer.params["W_hh"].astype(np.float64)
    np.testing.assert_allclose(W_hh.T @ W_hh, np.eye(5), atol=1e-5)


def test_lstm_unit_forget_bias(rng):
    layer = ns.LSTM(3)
    layer.build((2, 2), rng=rng)
    np.testing.assert_array_equal(layer.params["b_ih"], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(layer.params["b_hh"], np.zeros(12))
    plain = ns.LSTM(3, unit_forget_bias=False)
    plain.build((2, 2), rng=rng)
    np.testing.assert_array_equal(plain.params["b_ih"], np.zeros(12))


@pytest.mark.parametrize("kind", list(CELLS))
def test_sequence_output_and_final_state(kind, rng):
    layer = _layer(kind, 3, 2, 5, rng, return_sequences=True)
    x = rng.standard_normal((4, 5, 2))
    seq = layer.forward(x)
    assert seq.shape == (4, 5, 3)
    h_last = layer.final_state[0] if kind == "LSTM" else layer.final_state
    np.testing.assert_array_equal(seq[:, -1], h_last)
    last_only = _layer(kind, 3, 2, 5, rng)
    for key in last_only.params:
        last_only.params[key][...] = layer.params[key]
    np.testing.assert_array_equal(last_only.forward(x), seq[:, -1])
    # the initial state changes the output; the state carries over between calls
    first = layer.forward(x[:, :2])
    state = layer.final_state
    rest = layer.forward(x[:, 2:], initial_state=state)
    np.testing.assert_allclose(np.concatenate([first, rest], axis=1), seq, atol=1e-12)


@pytest.mark.parametrize("kind", list(CELLS))
def test_float32_stays_float32(kind, rng):
    layer = CELLS[kind](3, return_sequences=True)
    layer.build((4, 2), rng=rng, dtype=np.float32)
    x = rng.standard_normal((2, 4, 2)).astype(np.float32)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in layer.grads.values())
    states = layer.grad_initial_state if kind == "LSTM" else (layer.grad_initial_state,)
    assert all(s.dtype == np.float32 for s in states)


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_saturated_gates_stay_finite_without_warnings(kind, dtype, rng, no_warnings):
    layer = CELLS[kind](3, return_sequences=True)
    layer.build((4, 2), rng=rng, dtype=dtype)
    x = (rng.standard_normal((2, 4, 2)) * 1e4).astype(dtype)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert np.isfinite(y).all() and np.isfinite(dx).all()
    assert all(np.isfinite(g).all() for g in layer.grads.values())


def test_gru_learns_to_remember_the_first_step():
    """A GRU trained by BPTT recalls x_1 after T steps of noise (a wrong gradient would not)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (128, 6, 1))
    y = x[:, 0]
    net = ns.Network([ns.GRU(8), ns.Dense(1)], loss="mse",
                     optimizer=ns.optimizers.SGD(learning_rate=0.1, momentum=0.9), seed=0)
    history = net.fit(x, y, epochs=150, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.1 * losses[0]


def test_bidirectional_parameters_are_one_layer_for_the_optimizer(rng):
    net = ns.Network([ns.Bidirectional(ns.LSTM(2)), ns.Dense(1)], loss="mse",
                     optimizer=ns.optimizers.SGD(learning_rate=0.5), seed=0)
    x, y = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 1))
    net.fit(x, y, epochs=1, verbose=0)
    bi = net.layers[0]
    names = [name for name, _, _ in net.named_parameters()]
    assert "bidirectional_0.forward_W_ih" in names and "bidirectional_0.backward_b_hh" in names
    before = bi.params["backward_W_hh"].copy()
    net.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(before, bi.params["backward_W_hh"])
    assert bi.backward_layer.params["W_hh"] is bi.params["backward_W_hh"]
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards
    weights = net.get_weights()
    assert weights["bidirectional_0.forward_W_ih"].shape == (8, 2)


@pytest.mark.parametrize("layer", [
    ns.SimpleRNN(4, activation="relu", return_sequences=True),
    ns.LSTM(3, unit_forget_bias=False, use_bias=False, go_backwards=True),
    ns.GRU(2, kernel_initializer="he_uniform", recurrent_regularizer="l2"),
    ns.Bidirectional(ns.GRU(3, return_sequences=True), merge_mode="ave"),
])
def test_config_rebuilds_the_same_layer(layer, rng):
    config = layer.get_config()
    clone = LAYER_CLASSES[type(layer).__name__].from_config(config)
    assert clone.get_config() == config
    layer.build((3, 2), rng=rng, dtype=np.float64)
    clone.build((3, 2), rng=np.random.default_rng(99), dtype=np.float64)
    for key in layer.params:
        clone.params[key][...] = layer.params[key]
    x = rng.standard_normal((2, 3, 2))
    np.testing.assert_array_equal(clone.forward(x), layer.forward(x))
    assert clone.compute_output_shape((3, 2)) == layer.forward(x).shape[1:]


def test_regularizers_reach_the_loss_and_gradient(rng):
    layer = ns.LSTM(2, kernel_regularizer={"l2": 0.5}, recurrent_regularizer="l1")
    layer.build((3, 2), rng=rng, dtype=np.float64)
    expected = 0.5 * np.sum(layer.params["W_ih"] ** 2) + 0.01 * np.abs(layer.params["W_hh"]).sum()
    assert layer.penalty() == pytest.approx(expected)
    bi = ns.Bidirectional(ns.GRU(2, bias_regularizer={"l2": 0.1}))
    bi.build((3, 2), rng=rng)
    assert set(bi.regularizers) == {"forward_b_ih", "forward_b_hh", "backward_b_ih", "backward_b_hh"}


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

def test_two_dimensional_input_is_a_clear_error(rng):
    layer = ns.LSTM(4, name="lstm_0")
    with pytest.raises(ShapeError, match=r"^LSTM layer lstm_0 expects input \(N, T, features\), "
                                         r"got shape \(8, 5\)$"):
        layer(np.zeros((8, 5)))
    net = ns.Network([ns.GRU(2), ns.Dense(1)])
    with pytest.raises(ShapeError, match=r"GRU layer gru_0 expects input \(N, T, features\), "
                                         r"got shape \(N, 5\)"):
        net.predict(np.zeros((8, 5)))


def test_feature_mismatch_is_a_clear_error(rng):
    layer = ns.GRU(4, name="enc")
    layer.build((5, 3), rng=rng)
    with pytest.raises(ShapeError, match=r"GRU layer enc expects 3 input features, got 2 "
                                         r"\(input shape \(8, 5, 2\)\)"):
        layer.forward(np.zeros((8, 5, 2), np.float32))


def test_bad_initial_state_is_a_clear_error(rng):
    lstm = ns.LSTM(4, name="lstm_0")
    lstm.build((5, 3), rng=rng)
    x = np.zeros((8, 5, 3), np.float32)
    with pytest.raises(ShapeError, match=r"expects initial_state \(h0, c0\) each shaped \(8, 4\) "
                                         r"\(N, units\), got c0 shaped \(8, 3\)"):
        lstm.forward(x, initial_state=(np.zeros((8, 4)), np.zeros((8, 3))))
    with pytest.raises(ShapeError, match=r"expects initial_state \(h0, c0\), got ndarray"):
        lstm.forward(x, initial_state=np.zeros((8, 4)))
    gru = ns.GRU(4, name="gru_0")
    gru.build((5, 3), rng=rng)
    with pytest.raises(ShapeError, match=r"GRU layer gru_0 expects initial_state h0 shaped "
                                         r"\(8, 4\) \(N, units\), got h0 shaped \(1, 8, 4\)"):
        gru.forward(x, initial_state=np.zeros((1, 8, 4)))
    gru.forward(x, initial_state=[np.zeros((8, 4))])    # Keras's one-element list is fine
    bi = ns.Bidirectional(ns.LSTM(2))
    bi.build((5, 3), rng=rng)
    with pytest.raises(ShapeError, match=r"initial_state as a list \[h_f, c_f, h_b, c_b\], got 2"):
        bi.forward(x, initial_state=[np.zeros((8, 2))] * 2)


def test_other_errors(rng):
    with pytest.raises(ConfigError, match="LSTM units must be a positive integer"):
        ns.LSTM(0)
    with pytest.raises(ConfigError,
                       match="merge_mode must be one of 'concat', 'sum', 'mul', 'ave', got 'max'"):
        ns.Bidirectional(ns.LSTM(2), merge_mode="max")
    with pytest.raises(ConfigError, match="wraps a recurrent layer .* got Dense"):
        ns.Bidirectional(ns.Dense(2))
    layer = ns.SimpleRNN(2)
    layer.build((3, 1), rng=rng)
    with pytest.raises(DataTypeError, match="SimpleRNN layer SimpleRNN expects numbers, got dtype <U1"):
        layer.forward(np.full((2, 3, 1), "a"))
    with pytest.raises(ShapeError, match="at least one time step"):
        layer.forward(np.zeros((2, 0, 1), np.float32))
    with pytest.raises(ShapeError, match=r"backward expects a gradient shaped \(2, 2\), got \(2, 3, 2\)"):
        layer.forward(np.zeros((2, 3, 1), np.float32))
        layer.backward(np.zeros((2, 3, 2), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gate_sigmoid_is_the_sigmoid_to_half_an_ulp_of_one_half(dtype, rng):
    from nnscratch.layers.recurrent import gate_sigmoid
    a = np.concatenate([rng.standard_normal(5000) * 6, [0.0, -1e-30, 80.0, -80.0, 1e4, -1e4]])
    exact = 1.0 / (1.0 + np.exp(-a.astype(np.longdouble)))
    got = gate_sigmoid(a.astype(dtype).copy())
    assert got.dtype == dtype
    # the error that counts for a gate: absolute, a few roundings of values near 1/2
    assert np.abs(got - exact).max() <= 4 * np.finfo(dtype).eps
    assert (got >= 0).all() and (got <= 1).all()
    # per-column scale and shift: sigmoid where both are 1/2, tanh where they are 1 and 0
    block = a[:4000].astype(dtype).reshape(100, 40)
    scale, shift = np.full(40, 0.5, dtype), np.full(40, 0.5, dtype)
    scale[10:20], shift[10:20] = 1.0, 0.0
    mixed = gate_sigmoid(block.copy(), scale, shift)
    np.testing.assert_allclose(mixed[:, 10:20], np.tanh(block[:, 10:20]), rtol=0,
                               atol=4 * np.finfo(dtype).eps)
    np.testing.assert_array_equal(mixed[:, :10], gate_sigmoid(block[:, :10].copy()))


@pytest.mark.parametrize("kind", list(CELLS))
def test_backward_after_an_inference_forward_equals_after_a_training_one(kind, rng):
    # Outside training the cell keeps one step's values (written over each step); a backward
    # that follows runs the forward again in training mode, from the input it was given.
    layer = CELLS[kind](4, return_sequences=True, go_backwards=True)
    layer.build((5, 3), rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 5, 3))
    mask = np.array([[True, True, True, False, False], [True] * 5])
    state = (rng.standard_normal((2, 4)),) * (2 if kind == "LSTM" else 1)
    initial = state if kind == "LSTM" else state[0]
    g = rng.standard_normal((2, 5, 4))
    results = []
    for training in (True, False):
        y = layer.forward(x, training=training, initial_state=initial, mask=mask)
        results.append((y, layer.backward(g), {k: v.copy() for k, v in layer.grads.items()}))
    (y1, dx1, g1), (y2, dx2, g2) = results
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(dx1, dx2)
    for key in g1:
        np.testing.assert_array_equal(g1[key], g2[key])
