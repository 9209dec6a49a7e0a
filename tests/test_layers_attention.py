"""MultiHeadAttention: gradients (float64 central differences), masks, dropout, shapes, configs,
and agreement with torch.nn.MultiheadAttention; the other pieces a GPT-style model uses."""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError, DataTypeError, NotBuiltError, ShapeError
from nnscratch.gradcheck import check_layer
from nnscratch.layers import LAYER_CLASSES

L = ns.layers
N, T_Q, T_K = 2, 4, 5


def data(rng, *shapes):
    return [rng.standard_normal(shape) for shape in shapes]


def built(layer, shapes, rng, dtype=np.float64):
    """``layer`` built for ``shapes`` with parameters large enough to make the softmax peaked
    and every bias non-zero, so that no gradient is trivially small."""
    layer.build(shapes, rng=rng, dtype=dtype)
    for value in layer.params.values():
        value[...] = rng.standard_normal(value.shape) * 0.6
    return layer


def gradient_check(layer, xs, **options):
    """check_layer on every input and parameter. The key bias is the exception: it adds
    ``q . b_k`` to every score of a row, which the softmax ignores, so its gradient is exactly
    zero and a relative error of two zeros means nothing; it is checked to be zero and to leave
    the output unchanged instead."""
    errors = check_layer(layer, [x.copy() for x in xs], raise_on_failure=False, **options)
    assert {key: err for key, err in errors.items() if key != "b_k" and not err < 1e-7} == {}
    assert set(errors) == {f"input_{i}" for i in range(len(xs))} | set(layer.params)
    if "b_k" in layer.params:
        assert np.abs(layer.grads["b_k"]).max() < 1e-12
        options = {key: value for key, value in options.items() if key != "training"}
        y = layer.forward(xs, **options)
        layer.params["b_k"] += 1.0
        np.testing.assert_allclose(layer.forward(xs, **options), y, rtol=0, atol=1e-12)
    return errors


def padding_mask(lengths, t_q=T_Q, t_k=T_K):
    """(N, 1, T_k): True for the real steps of each sequence of the batch."""
    return (np.arange(t_k)[None, :] < np.array(lengths)[:, None])[:, None, :] & np.ones(
        (1, t_q, 1), bool)


# -- gradients -------------------------------------------------------------------------------------

@pytest.mark.parametrize("use_bias", [True, False])
def test_gradients_of_cross_attention_with_a_key_and_other_sizes(use_bias, rng):
    layer = L.MultiHeadAttention(3, 2, value_dim=4, output_shape=5, use_bias=use_bias)
    xs = data(rng, (N, T_Q, 6), (N, T_K, 7), (N, T_K, 3))
    built(layer, [x.shape[1:] for x in xs], rng)
    gradient_check(layer, xs)
    assert layer.params["W_q"].shape == (6, 3, 2) and layer.params["W_k"].shape == (3, 3, 2)
    assert layer.params["W_v"].shape == (7, 3, 4) and layer.params["W_o"].shape == (3, 4, 5)
    assert ("b_q" in layer.params) is use_bias


@pytest.mark.parametrize("options", [{}, {"use_causal_mask": True},
                                     {"attention_mask": padding_mask([3, 5], t_q=T_K)},
                                     {"attention_mask": padding_mask([2, 4], t_q=T_K),
                                      "use_causal_mask": True}],
                         ids=["none", "causal", "padding", "padding+causal"])
def test_gradients_with_masks(options, rng):
    layer = built(L.MultiHeadAttention(2, 3), [(T_K, 4), (T_K, 4)], rng)
    gradient_check(layer, data(rng, (N, T_K, 4), (N, T_K, 4)), **options)


def test_gradients_with_a_random_mask_holding_fully_masked_rows(rng):
    mask = rng.random((N, T_Q, T_K)) > 0.5
    mask[0, 1] = False
    mask[1, 3] = False
    layer = built(L.MultiHeadAttention(2, 3), [(T_Q, 4), (T_K, 5)], rng)
    gradient_check(layer, data(rng, (N, T_Q, 4), (N, T_K, 5)), attention_mask=mask)


def test_gradients_with_dropout_while_training(rng):
    layer = built(L.MultiHeadAttention(2, 3, dropout=0.4), [(T_Q, 4), (T_K, 4)], rng)
    xs = data(rng, (N, T_Q, 4), (N, T_K, 4))
    gradient_check(layer, xs, training=True, use_causal_mask=False)
    assert not np.allclose(layer(xs, training=True), layer(xs))   # the masks did act


def test_self_attention_gradient_is_the_sum_of_both_paths(rng):
    layer = built(L.MultiHeadAttention(2, 3), [(T_K, 4), (T_K, 4)], rng)
    x = rng.standard_normal((N, T_K, 4))
    y = layer([x, x], use_causal_mask=True)
    g = rng.standard_normal(y.shape)
    grad_q, grad_v = layer.backward(g)

    def objective():
        return float(np.sum(layer.forward([x, x], use_causal_mask=True) * g))

    numeric = ns.gradcheck.numerical_gradient(objective, x)   # moves query, key and value at once
    assert ns.gradcheck.relative_error(grad_q + grad_v, numeric) < 1e-8


# -- masks -----------------------------------------------------------------------------------------

def test_padding_mask_equals_attending_to_the_unpadded_keys_only(rng):
    layer = built(L.MultiHeadAttention(2, 3), [(T_Q, 4), (T_K, 4)], rng)
    q, v = data(rng, (1, T_Q, 4), (1, T_K, 4))
    y = layer([q, v], attention_mask=padding_mask([3], t_k=T_K))
    weights = layer.last_attention_scores
    assert not weights[..., 3:].any()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(y, layer([q, v[:, :3]]), rtol=1e-12, atol=1e-14)


def test_causal_mask_hides_the_future(rng):
    layer = built(L.MultiHeadAttention(2, 3), [(T_K, 4), (T_K, 4)], rng)
    x = rng.standard_normal((N, T_K, 4))
    y = layer([x, x], use_causal_mask=True)
    weights = layer.last_attention_scores
    assert weights.shape == (N, 2, T_K, T_K)
    assert not weights[:, :, ~np.tri(T_K, dtype=bool)].any()   # no weight above the diagonal
    moved = x.copy()
    moved[:, 3:] += 10.0                                      # change steps 3 and 4 only
    np.testing.assert_allclose(layer([moved, moved], use_causal_mask=True)[:, :3], y[:, :3],
                               rtol=1e-12, atol=1e-14)
    explicit = layer([x, x], attention_mask=np.tril(np.ones((T_K, T_K), int)))
    np.testing.assert_array_equal(explicit, y)                # the same as the causal option


def test_a_fully_masked_row_gives_zero_weights_zero_output_and_zero_gradient(rng, no_warnings):
    layer = built(L.MultiHeadAttention(2, 3), [(T_Q, 4), (T_K, 4)], rng)
    q, v = data(rng, (N, T_Q, 4), (N, T_K, 4))
    mask = np.ones((N, T_Q, T_K), bool)
    mask[0, 2] = False                                        # query 2 of sample 0 sees nothing
    y = layer([q, v], attention_mask=mask)
    assert np.isfinite(y).all()
    assert not layer.last_attention_scores[0, :, 2].any()
    np.testing.assert_allclose(y[0, 2], layer.params["b_o"], rtol=0, atol=0)   # no attention
    g = np.zeros_like(y)
    g[0, 2] = rng.standard_normal(y.shape[-1])                # a gradient on that row alone
    grads = layer.backward(g)
    assert all(np.isfinite(grad).all() and not grad.any() for grad in grads)
    for key, grad in layer.grads.items():
        assert np.isfinite(grad).all()
        assert (not grad.any()) is (key != "b_o")             # only the output bias learns


def test_everything_masked_gives_the_output_bias(rng, no_warnings):
    layer = built(L.MultiHeadAttention(2, 3), [(T_Q, 4), (T_K, 4)], rng)
    y = layer(data(rng, (N, T_Q, 4), (N, T_K, 4)), attention_mask=np.zeros((N, T_Q, T_K), bool))
    np.testing.assert_array_equal(y, np.broadcast_to(layer.params["b_o"], y.shape))


def test_masks_broadcast_and_take_zero_one_numbers(rng):
    layer = built(L.MultiHeadAttention(2, 3), [(T_Q, 4), (T_K, 4)], rng)
    xs = data(rng, (N, T_Q, 4), (N, T_K, 4))
    square = rng.random((T_Q, T_K)) > 0.3
    full = layer(xs, attention_mask=np.broadcast_to(square, (N, T_Q, T_K)))
    np.testing.assert_array_equal(layer(xs, attention_mask=square), full)
    np.testing.assert_array_equal(layer(xs, attention_mask=square.astype(np.float32)), full)
    keys = padding_mask([2, 4])[:, :1, :]                     # (N, 1, T_k)
    np.testing.assert_array_equal(layer(xs, attention_mask=keys),
                                  layer(xs, attention_mask=np.broadcast_to(keys, (N, T_Q, T_K))))


def test_bad_masks_are_refused(rng):
    layer = built(L.MultiHeadAttention(2, 3, name="mha"), [(T_Q, 4), (T_K, 4)], rng)
    xs = data(rng, (N, T_Q, 4), (N, T_K, 4))
    with pytest.raises(ShapeError, match=r"MultiHeadAttention layer mha attention_mask must "
                                         r"broadcast to \(N, T_q, T_k\) = \(2, 4, 5\), got shape "
                                         r"\(2, 5\)"):
        layer(xs, attention_mask=np.ones((N, T_K), bool))
    with pytest.raises(ShapeError, match="got shape"):
        layer(xs, attention_mask=np.ones((1, N, T_Q, T_K), bool))
    with pytest.raises(DataTypeError, match="attention_mask must hold booleans or 0/1"):
        layer(xs, attention_mask=np.full((N, T_Q, T_K), "yes"))
    with pytest.raises(ConfigError, match="use_causal_mask must be True or False, got 1"):
        layer(xs, use_causal_mask=1)


# -- dropout ---------------------------------------------------------------------------------------

def test_dropout_acts_while_training_only_and_follows_the_build_generator(rng):
    shapes = [(T_Q, 4), (T_K, 4)]
    xs = data(rng, (N, T_Q, 4), (N, T_K, 4))
    plain = L.MultiHeadAttention(2, 3)
    plain.build(shapes, rng=np.random.default_rng(7))
    twins = []
    for _ in range(2):
        layer = L.MultiHeadAttention(2, 3, dropout=0.5)
        layer.build(shapes, rng=np.random.default_rng(7))
        twins.append(layer)
    np.testing.assert_array_equal(twins[0](xs), plain(xs))            # inference: no dropout
    trained = [layer(xs, training=True) for layer in twins]
    np.testing.assert_array_equal(trained[0], trained[1])              # same generator, same masks
    assert not np.allclose(trained[0], plain(xs))
    np.testing.assert_allclose(twins[0].last_attention_scores.sum(axis=-1), 1.0, rtol=1e-6)
    alone = [L.MultiHeadAttention(2, 3, dropout=0.5, seed=3) for _ in range(2)]
    for layer in alone:                                    # built without a generator: from seed
        layer.build(shapes)
        for key, value in layer.params.items():
            value[...] = plain.params[key]
    results = [layer(xs, training=True) for layer in alone]
    np.testing.assert_array_equal(results[0], results[1])


# -- shapes, calls, dtypes ----------------------------------------------------------------------

def test_call_forms_shapes_and_scores(rng):
    q, v, k = data(rng, (N, T_Q, 6), (N, T_K, 6), (N, T_K, 6))
    layer = L.MultiHeadAttention(3, 2)
    y = layer(q, v)
    assert layer.multiple_inputs and layer.input_shape == [(T_Q, 6), (T_K, 6)]
    assert y.shape == (N, T_Q, 6) == (N,) + layer.compute_output_shape([(T_Q, 6), (T_K, 6)])
    np.testing.assert_array_equal(layer([q, v]), y)
    np.testing.assert_array_equal(layer(q, v, v), y)                  # the key defaults to value
    np.testing.assert_array_equal(layer.forward([q, v, v]), y)
    assert not np.allclose(layer(q, v, k), y)
    assert layer.last_attention_scores.shape == (N, 3, T_Q, T_K)
    assert L.MultiHeadAttention(3, 2, output_shape=9).compute_output_shape([(4, 6), (5, 7)]) == (4, 9)


def test_shape_errors_name_the_layer_and_the_shapes(rng):
    layer = L.MultiHeadAttention(2, 3, name="mha")
    with pytest.raises(ShapeError, match=r"MultiHeadAttention layer mha expects a list of 2 to 3 "
                                         r"input arrays, got one ndarray shaped \(2, 4, 6\)"):
        layer(np.ones((2, 4, 6)))
    with pytest.raises(ShapeError, match=r"expects query, value \(and key\) shaped \(N, T, "
                                         r"features\), got inputs shaped \(2, 4\), \(2, 4\)"):
        layer(np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(ShapeError, match=r"expects value and key of one length T_k, got inputs "
                                         r"shaped \(2, 4, 6\), \(2, 5, 6\), \(2, 3, 6\)"):
        layer(np.ones((2, 4, 6)), np.ones((2, 5, 6)), np.ones((2, 3, 6)))
    with pytest.raises(ShapeError, match=r"one batch size, got inputs shaped \(2, 4, 6\), \(3, 5, 6\)"):
        layer(np.ones((2, 4, 6)), np.ones((3, 5, 6)))
    with pytest.raises(ShapeError, match="expects 2 to 3 inputs, got 4"):
        layer([np.ones((2, 4, 6))] * 4)
    with pytest.raises(ShapeError, match=r"takes either a list .* not both; got a list and bool"):
        layer([np.ones((2, 4, 6))] * 2, True)                 # training given as the value
    layer(np.ones((2, 4, 6)), np.ones((2, 5, 7)))
    with pytest.raises(ShapeError, match=r"was built for query, value shaped \(N, T, 6\), \(N, T, "
                                         r"7\) \(the value is also the key: E_k = 7\), got inputs "
                                         r"shaped \(2, 4, 6\), \(2, 5, 6\)"):
        layer(np.ones((2, 4, 6)), np.ones((2, 5, 6)))
    with pytest.raises(ShapeError, match=r"got per-sample shapes \(4, 6\), \(5, 6, 1\)"):
        L.MultiHeadAttention(2, 3).build([(4, 6), (5, 6, 1)])


def test_out_of_order_use_raises_the_library_errors(rng):
    layer = L.MultiHeadAttention(2, 3, name="mha")
    layer.build([(T_Q, 4), (T_K, 4)])
    with pytest.raises(NotBuiltError, match="MultiHeadAttention layer mha: backward called before"):
        layer.backward(np.ones((N, T_Q, 4)))
    layer(data(rng, (N, T_Q, 4), (N, T_K, 4)))
    with pytest.raises(ShapeError, match=r"backward expects a gradient shaped \(2, 4, 4\)"):
        layer.backward(np.ones((N, T_Q, 5)))


@pytest.mark.parametrize("kwargs, match", [
    ({"num_heads": 0, "key_dim": 2}, "num_heads must be a positive integer"),
    ({"num_heads": 2, "key_dim": 2.0}, "key_dim must be a positive integer"),
    ({"num_heads": 2, "key_dim": 2, "value_dim": "3"}, "value_dim must be a positive integer"),
    ({"num_heads": 2, "key_dim": 2, "dropout": 1.0}, r"dropout must be a number in \[0, 1\)"),
    ({"num_heads": 2, "key_dim": 2, "use_bias": 1}, "use_bias must be True or False"),
    ({"num_heads": 2, "key_dim": 2, "output_shape": -1}, "output_shape must be a positive integer"),
    ({"num_heads": 2, "key_dim": 2, "seed": -1}, "seed must be None or an integer"),
])
def test_arguments_are_checked(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        L.MultiHeadAttention(**kwargs)


def test_float32_stays_float32_and_gradients_are_written_in_place(rng):
    layer = L.MultiHeadAttention(2, 3)
    xs = [x.astype(np.float32) for x in data(rng, (N, T_Q, 4), (N, T_K, 4))]
    layer.build([(T_Q, 4), (T_K, 4)], rng=rng)
    before = {key: id(grad) for key, grad in layer.grads.items()}
    y = layer(xs, use_causal_mask=False, attention_mask=padding_mask([2, 5]))
    grads = layer.backward(np.ones_like(y))
    assert y.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    assert layer.last_attention_scores.dtype == np.float32
    assert {key: id(grad) for key, grad in layer.grads.items()} == before     # packable
    assert all(grad.dtype == np.float32 and grad.any() for key, grad in layer.grads.items()
               if key != "b_k")


def test_config_round_trip(rng):
    layer = L.MultiHeadAttention(2, 3, value_dim=5, dropout=0.25, use_bias=False, output_shape=7,
                                 kernel_initializer="he_normal", bias_initializer="ones",
                                 kernel_regularizer="l2", seed=4, name="attention")
    config = layer.get_config()
    assert config["value_dim"] == 5 and config["output_shape"] == 7 and config["seed"] == 4
    twin = LAYER_CLASSES["MultiHeadAttention"].from_config(config)
    assert twin.get_config() == config and repr(twin) == repr(layer)
    xs = data(rng, (N, T_Q, 4), (N, T_K, 6))
    y = layer(xs)
    twin.build(layer.input_shape)
    assert twin.params.keys() == layer.params.keys() == {"W_q", "W_k", "W_v", "W_o"}
    for key, value in layer.params.items():
        twin.params[key][...] = value
    np.testing.assert_array_equal(twin(xs), y)
    assert layer.penalty() > 0                             # the kernel regularizer is in place


# -- against PyTorch -----------------------------------------------------------------------------

def torch_twin(torch, layer, E, H):
    """torch.nn.MultiheadAttention with ``layer``'s weights (the mapping in attention.py)."""
    p = layer.params
    bias = layer.use_bias
    twin = torch.nn.MultiheadAttention(E, H, bias=bias, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        twin.in_proj_weight.copy_(torch.tensor(np.concatenate(
            [p[f"W_{k}"].reshape(E, E).T for k in "qkv"])))
        twin.out_proj.weight.copy_(torch.tensor(p["W_o"].reshape(E, E).T))
        if bias:
            twin.in_proj_bias.copy_(torch.tensor(np.concatenate([p[f"b_{k}"].reshape(E)
                                                                 for k in "qkv"])))
            twin.out_proj.bias.copy_(torch.tensor(p["b_o"]))
    return twin


@pytest.mark.parametrize("case", ["cross", "self-causal", "padding", "no-bias"])
def test_matches_torch_multihead_attention(case, rng):
    torch = pytest.importorskip("torch")
    E, H = 6, 3
    use_bias = case != "no-bias"
    layer = built(L.MultiHeadAttention(H, E // H, use_bias=use_bias), [(T_Q, E), (T_K, E), (T_K, E)],
                  rng)
    if case == "self-causal":
        x = rng.standard_normal((N, T_K, E))
        xs, t_q = [x, x, x], T_K
    else:
        xs, t_q = data(rng, (N, T_Q, E), (N, T_K, E), (N, T_K, E)), T_Q
    mask = np.ones((N, t_q, T_K), bool)
    if case == "self-causal":
        mask &= np.tri(T_K, dtype=bool)
    if case == "padding":
        mask &= padding_mask([3, 5])
    options = {"use_causal_mask": True} if case == "self-causal" else {"attention_mask": mask}
    y = layer(xs[:1] + xs[1:][::-1], **options)               # ours: [query, value, key]
    g = rng.standard_normal(y.shape)
    grad_q, grad_v, grad_k = layer.backward(g)

    twin = torch_twin(torch, layer, E, H)
    if case == "self-causal":
        tx = torch.tensor(xs[0], requires_grad=True)
        tq = tk = tv = tx
    else:
        tq, tk, tv = (torch.tensor(x, requires_grad=True) for x in xs)
    ty, tw = twin(tq, tk, tv, attn_mask=torch.tensor(np.repeat(~mask, H, axis=0)),  # True: hidden
                  need_weights=True, average_attn_weights=False)
    ty.backward(torch.tensor(g))

    def close(ours, theirs):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)

    close(y, ty)
    close(layer.last_attention_scores, tw)
    if case == "self-causal":                                 # one tensor: the three paths summed
        close(grad_q + grad_v + grad_k, tx.grad)
    else:
        close(grad_q, tq.grad)
        close(grad_k, tk.grad)
        close(grad_v, tv.grad)
    close(np.concatenate([layer.grads[f"W_{k}"].reshape(E, E).T for k in "qkv"]),
          twin.in_proj_weight.grad)
    close(layer.grads["W_o"].reshape(E, E).T, twin.out_proj.weight.grad)
    if use_bias:
        close(np.concatenate([layer.grads[f"b_{k}"].reshape(E) for k in "qkv"]),
              twin.in_proj_bias.grad)
        close(layer.grads["b_o"], twin.out_proj.bias.grad)


# -- the other pieces of a GPT-style model ---------------------------------------------------------

def test_dense_applies_to_the_last_axis_of_sequences(rng):
    x = rng.standard_normal((N, T_K, 4))
    layer = L.Dense(3, activation="gelu")
    y = layer(x)
    assert y.shape == (N, T_K, 3)
    for t in range(T_K):                                      # each step, as a 2-D batch
        np.testing.assert_allclose(y[:, t], layer(x[:, t]), rtol=1e-12)
    check_layer(L.Dense(3, activation="gelu"), x)
    check_layer(L.LayerNormalization(), x)                    # over the features of each step


def test_a_transformer_block_composed_by_hand_has_exact_gradients(rng):
    """Embedding -> PositionalEmbedding -> x + MHA(LN(x), causal) -> x + MLP(LN(x)) -> logits:
    the layers' backward passes chained by hand (the residual fan-out summed) agree with
    central differences of the whole block."""
    vocab, T, E = 7, 5, 6
    ids = rng.integers(0, vocab, (N, T))
    embed, position = L.Embedding(vocab, E), L.PositionalEmbedding(8, E)
    norm1, mha, add1 = L.LayerNormalization(), L.MultiHeadAttention(2, 3), L.Add()
    norm2, up, down, add2 = L.LayerNormalization(), L.Dense(12, activation="gelu"), L.Dense(E), L.Add()
    head = L.Dense(vocab)
    for layer, shape in ((embed, (T,)), (position, (T, E)), (norm1, (T, E)), (norm2, (T, E)),
                         (up, (T, E)), (down, (T, 12)), (head, (T, E))):
        layer.build(shape, rng=rng, dtype=np.float64)
    mha.build([(T, E), (T, E)], rng=rng, dtype=np.float64)

    def forward():
        x = position(embed(ids))
        h = norm1(x)
        x = add1([x, mha([h, h], use_causal_mask=True)])
        x = add2([x, down(up(norm2(x)))])
        return head(x)

    y = forward()
    g = rng.standard_normal(y.shape)
    dx2 = head.backward(g)
    d_res, d_mlp = add2.backward(dx2)
    dx1 = d_res + norm2.backward(up.backward(down.backward(d_mlp)))
    d_res, d_att = add1.backward(dx1)
    dq, dv = mha.backward(d_att)
    dx = d_res + norm1.backward(dq + dv)
    position.backward(dx)
    embed.backward(dx)

    def objective():
        return float(np.sum(forward() * g))

    for layer in (embed, position, norm1, mha, norm2, up, down, head):
        for key, param in layer.params.items():
            if key == "b_k":
                continue                                      # exactly zero (see gradient_check)
            analytic = layer.grads[key].copy()
            numeric = ns.gradcheck.numerical_gradient(objective, param)
            assert ns.gradcheck.relative_error(analytic, numeric) < 1e-7, (type(layer).__name__, key)


# -- memory: shapes known before anything is drawn -------------------------------------------------

@pytest.mark.parametrize("make, shapes", [
    (lambda: L.MultiHeadAttention(2, 3), [(4, 6), (5, 7)]),
    (lambda: L.MultiHeadAttention(2, 3, value_dim=4, output_shape=2, use_bias=False),
     [(4, 6), (5, 7), (5, 3)]),
    (lambda: L.PositionalEmbedding(9, 4), (5, 4)),
    (lambda: L.Concatenate(), [(4, 2), (4, 3)]),
])
def test_param_shapes_are_the_shapes_that_build_creates(make, shapes):
    layer = make()
    planned = layer.param_shapes(shapes)
    assert not layer.built
    layer.build(shapes, rng=np.random.default_rng(0))
    assert planned == {key: value.shape for key, value in layer.params.items()}
    assert layer.forward_values(shapes) > 0


def test_a_layer_too_large_for_memory_is_refused_before_drawing():
    layer = L.MultiHeadAttention(4096, 4096, name="huge")
    with pytest.raises(ns.errors.ResourceError, match="MultiHeadAttention layer huge needs"):
        layer.build([(8, 65536), (8, 65536)])
    assert not layer.built and not layer.params
