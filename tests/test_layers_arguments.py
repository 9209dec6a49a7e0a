"""Every layer checks its arguments the same way (nnscratch.checks).

A flag is only True or False; a size is a whole number (never a bool, a float or a string); a
number is never a string; a choice is one of its strings. A refused value is a ConfigError that
says what was expected and what came in.
"""

import numpy as np
import pytest

import nnscratch as ns
from nnscratch.errors import ConfigError


def test_the_cases_named_in_the_design():
    with pytest.raises(ConfigError, match="LSTM return_sequences must be True or False, got 2"):
        ns.LSTM(3, return_sequences=2)
    with pytest.raises(ConfigError, match=r"Dense use_bias must be True or False, got 'no' \(str\)"):
        ns.Dense(3, use_bias="no")
    with pytest.raises(ConfigError, match=r"Dense units must be a positive integer, got '3' \(str\)"):
        ns.Dense("3")
    with pytest.raises(ConfigError, match=r"Conv2D filters must be a positive integer, got True \(bool\)"):
        ns.Conv2D(True, 3)


# (constructor, the arguments it needs, the flag)
FLAGS = [
    (ns.Dense, (3,), "use_bias"),
    (ns.Conv1D, (2, 3), "use_bias"),
    (ns.Conv2D, (2, 3), "use_bias"),
    (ns.Conv2DTranspose, (2, 3), "use_bias"),
    (ns.SimpleRNN, (3,), "return_sequences"),
    (ns.SimpleRNN, (3,), "go_backwards"),
    (ns.GRU, (3,), "use_bias"),
    (ns.LSTM, (3,), "return_sequences"),
    (ns.LSTM, (3,), "go_backwards"),
    (ns.LSTM, (3,), "use_bias"),
    (ns.LSTM, (3,), "unit_forget_bias"),
    (ns.AvgPool1D, (2,), "count_include_pad"),
    (ns.AvgPool2D, (2,), "count_include_pad"),
    (ns.GlobalAvgPool1D, (), "keepdims"),
    (ns.GlobalAvgPool2D, (), "keepdims"),
    (ns.GlobalMaxPool1D, (), "keepdims"),
    (ns.GlobalMaxPool2D, (), "keepdims"),
    (ns.BatchNormalization, (), "center"),
    (ns.BatchNormalization, (), "scale"),
    (ns.LayerNormalization, (), "center"),
    (ns.LayerNormalization, (), "scale"),
]


@pytest.mark.parametrize("cls, args, flag", FLAGS,
                         ids=[f"{cls.__name__}-{flag}" for cls, _, flag in FLAGS])
@pytest.mark.parametrize("value", [0, 1, 2, "no", "True", None, 1.0])
def test_a_flag_is_only_true_or_false(cls, args, flag, value):
    with pytest.raises(ConfigError, match=f"{flag} must be True or False, got"):
        cls(*args, **{flag: value})


@pytest.mark.parametrize("cls, args, flag", FLAGS,
                         ids=[f"{cls.__name__}-{flag}" for cls, _, flag in FLAGS])
@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_a_flag_keeps_a_plain_bool(cls, args, flag, value):
    layer = cls(*args, **{flag: value})
    assert getattr(layer, flag) is bool(value)
    assert layer.get_config()[flag] is bool(value)


# (constructor, the arguments before the size, the size's keyword)
SIZES = [
    (ns.Dense, (), "units"),
    (ns.Dense, (3,), "input_dim"),
    (ns.Conv1D, (), "filters"),
    (ns.Conv2D, (2,), "kernel_size"),
    (ns.Conv2D, (2, 3), "stride"),
    (ns.Conv2D, (2, 3), "dilation"),
    (ns.Conv2DTranspose, (2,), "kernel_size"),
    (ns.SimpleRNN, (), "units"),
    (ns.LSTM, (), "units"),
    (ns.GRU, (), "units"),
    (ns.MaxPool2D, (), "pool_size"),
    (ns.MaxPool1D, (2,), "stride"),
    (ns.AvgPool2D, (), "pool_size"),
    (ns.UpSampling1D, (), "size"),
    (ns.UpSampling2D, (), "size"),
    (ns.Embedding, (), "input_dim"),
    (ns.Embedding, (5,), "output_dim"),
]


def _build(cls, args, keyword, value):
    kwargs = {keyword: value}
    if cls is ns.Conv1D or (cls in (ns.Conv2D, ns.Conv2DTranspose) and keyword == "kernel_size"):
        kwargs.setdefault("kernel_size", 3)
    if cls is ns.Embedding and keyword == "input_dim":
        kwargs["output_dim"] = 2
    return cls(*args, **kwargs)


@pytest.mark.parametrize("cls, args, keyword", SIZES,
                         ids=[f"{cls.__name__}-{keyword}" for cls, _, keyword in SIZES])
@pytest.mark.parametrize("value", ["3", 3.0, 2.5, True, 0, -1, None, [3, 3, 3]])
def test_a_size_is_a_positive_whole_number(cls, args, keyword, value):
    if value is None and keyword in ("input_dim", "stride") and cls is not ns.Embedding:
        return                                   # None means "not given" there
    with pytest.raises(ConfigError, match=f"{keyword} must be .*, got"):
        _build(cls, args, keyword, value)


@pytest.mark.parametrize("cls, args, keyword", SIZES,
                         ids=[f"{cls.__name__}-{keyword}" for cls, _, keyword in SIZES])
def test_a_numpy_integer_is_a_size(cls, args, keyword):
    layer = _build(cls, args, keyword, np.int64(3))
    config = layer.get_config()
    stored = config.get(keyword)
    assert stored in (3, [3], [3, 3]) and type(stored if stored == 3 else stored[0]) is int


@pytest.mark.parametrize("make, message", [
    (lambda: ns.Conv2D(2, (3, True)), "kernel_size must be a positive integer, got True"),
    (lambda: ns.Conv2D(2, 3, padding=True), "padding must be"),
    (lambda: ns.Conv2D(2, 3, padding=(1.0, 1)), "padding must be"),
    (lambda: ns.Conv1D(2, 3, padding="1"), "padding must be one of 'valid', 'same', got '1'"),
    (lambda: ns.Conv2DTranspose(2, 3, output_padding=True),
     r"output_padding must be an integer or a sequence of 2 integers >= 0, got True \(bool\)"),
    (lambda: ns.MaxPool2D(2, padding="full"), "padding must be one of 'valid', 'same'"),
    (lambda: ns.Reshape((2, "3")), "target_shape must be a tuple of positive ints"),
    (lambda: ns.Reshape((2, True)), "target_shape must be a tuple of positive ints"),
    (lambda: ns.BatchNormalization(axis=True), "axis must be a non-zero integer"),
    (lambda: ns.LayerNormalization(axis=(1, False)), "axis must be a non-zero integer"),
    (lambda: ns.Bidirectional(ns.LSTM(2), merge_mode=None), "merge_mode must be one of"),
    (lambda: ns.UpSampling1D(2, interpolation="linear"), "interpolation must be one of 'nearest'"),
])
def test_other_shapes_and_choices(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


@pytest.mark.parametrize("make, message", [
    (lambda: ns.Dropout("0.5"), r"Dropout rate must be a number in \[0, 1\), got '0.5' \(str\)"),
    (lambda: ns.Dropout(float("nan")), "Dropout rate must be a number"),
    (lambda: ns.BatchNormalization(momentum="0.9"), "momentum must be a number in"),
    (lambda: ns.BatchNormalization(momentum=True), "momentum must be a number in"),
    (lambda: ns.LayerNormalization(epsilon="1e-5"), "epsilon must be a number > 0"),
    (lambda: ns.LayerNormalization(epsilon=float("inf")), "epsilon must be a number > 0"),
    (lambda: ns.Dropout(0.1, seed="1"), "Dropout seed must be"),
    (lambda: ns.Dropout(0.1, seed=-1), "Dropout seed must be"),
])
def test_numbers_are_never_strings_or_bools(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_numbers_and_modes_that_pass():
    assert ns.Dropout(np.float32(0.25)).rate == 0.25
    assert type(ns.Dropout(0).rate) is float
    assert ns.BatchNormalization(momentum=0, epsilon=np.float64(1e-5)).momentum == 0.0
    assert ns.Conv2D(2, 3, padding="SAME").padding == "same"
    assert ns.Conv1D(2, 3, padding="Valid").get_config()["padding"] == 0
    assert ns.MaxPool1D(np.int32(2), stride=None).stride == (2,)
