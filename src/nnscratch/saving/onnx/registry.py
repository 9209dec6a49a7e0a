"""Which converter exports which layer class, and which classes deliberately do not export.

Converters are looked up by the layer's exact class (not its name, and not a parent class): a
user's subclass of Dense may compute something else, so it is refused rather than exported as
a Dense. Every class in :data:`nnscratch.layers.REGISTRY` defined by nnscratch is in one of
the two tables; the tests check that.
"""

from ...errors import ExportError
from ...layers import (
    GRU,
    LSTM,
    ActivatedLayer,
    Activation,
    Add,
    Average,
    AvgPool1D,
    AvgPool2D,
    BatchNormalization,
    Bidirectional,
    Concatenate,
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    LayerNormalization,
    Masking,
    Maximum,
    MaxPool1D,
    MaxPool2D,
    Minimum,
    MultiHeadAttention,
    Multiply,
    PositionalEmbedding,
    Reshape,
    SimpleRNN,
    Subtract,
    UpSampling1D,
    UpSampling2D,
)
from .attention import convert_attention
from .conv import convert_conv, convert_conv_transpose
from .dense import convert_dense, convert_embedding, describe
from .merge import (
    convert_activation_layer,
    convert_add,
    convert_average,
    convert_concatenate,
    convert_maximum,
    convert_minimum,
    convert_multiply,
    convert_positional_embedding,
    convert_subtract,
)
from .normalization import convert_batch_norm, convert_layer_norm
from .pooling import convert_avg_pool, convert_global_avg_pool, convert_global_max_pool, convert_max_pool
from .recurrent import convert_bidirectional, convert_recurrent
from .reshape import convert_dropout, convert_flatten, convert_reshape, convert_upsampling
from .sequences import convert_masking

# layer class -> converter(builder, layer, x, in_shape) -> output tensor name; for a layer of
# several inputs x and in_shape are lists, one entry per input
LAYER_CONVERTERS = {
    Dense: convert_dense,
    Embedding: convert_embedding,
    Masking: convert_masking,
    Conv1D: convert_conv,
    Conv2D: convert_conv,
    Conv2DTranspose: convert_conv_transpose,
    MaxPool1D: convert_max_pool,
    MaxPool2D: convert_max_pool,
    AvgPool1D: convert_avg_pool,
    AvgPool2D: convert_avg_pool,
    GlobalMaxPool1D: convert_global_max_pool,
    GlobalMaxPool2D: convert_global_max_pool,
    GlobalAvgPool1D: convert_global_avg_pool,
    GlobalAvgPool2D: convert_global_avg_pool,
    Flatten: convert_flatten,
    Reshape: convert_reshape,
    UpSampling1D: convert_upsampling,
    UpSampling2D: convert_upsampling,
    Dropout: convert_dropout,
    BatchNormalization: convert_batch_norm,
    LayerNormalization: convert_layer_norm,
    SimpleRNN: convert_recurrent,
    LSTM: convert_recurrent,
    GRU: convert_recurrent,
    Bidirectional: convert_bidirectional,
    Activation: convert_activation_layer,
    PositionalEmbedding: convert_positional_embedding,
    Add: convert_add,
    Subtract: convert_subtract,
    Multiply: convert_multiply,
    Average: convert_average,
    Maximum: convert_maximum,
    Minimum: convert_minimum,
    Concatenate: convert_concatenate,
    MultiHeadAttention: convert_attention,
}

# layer class -> the options of a call that its converter takes as keywords (a symbolic tensor
# as ``(tensor name, per-sample shape)``); any other option that is not None is refused
LAYER_OPTIONS = {
    MultiHeadAttention: ("attention_mask", "use_causal_mask"),
}

# layer class -> why it cannot be exported
NOT_EXPORTABLE = {
    ActivatedLayer: "it is an abstract base class with no computation of its own",
}


def layer_converter(layer):
    """The converter for ``layer``, or ExportError naming the layer and why it cannot export."""
    converter = LAYER_CONVERTERS.get(type(layer))
    if converter is not None:
        return converter
    reason = NOT_EXPORTABLE.get(type(layer), "ONNX export covers nnscratch's own layer classes "
                                             "only, and this class is not one of them")
    known = ", ".join(sorted(cls.__name__ for cls in LAYER_CONVERTERS))
    raise ExportError(f"cannot export {describe(layer)} (class {type(layer).__module__}."
                      f"{type(layer).__qualname__}): {reason}; exportable layers: {known}")
