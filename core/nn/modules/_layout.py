"""Where each layer class sits in ``ember.nn.modules``: torch's file layout, as data.

``LAYERS`` maps a submodule (torch's file name under ``torch/nn/modules/``) to the
public classes it holds; the classes themselves come from the plugins' registry.
``BASES`` names, per submodule, the private base classes that scripts subclass, each
with a public class whose bases include it (the base is looked up there, so it is
the plugin's own class).
"""

LAYERS = {
    "activation": ("Threshold", "ReLU", "RReLU", "Hardtanh", "ReLU6", "Sigmoid", "Hardsigmoid",
                   "Tanh", "SiLU", "Mish", "Hardswish", "ELU", "CELU", "SELU", "GLU", "GELU",
                   "Hardshrink", "LeakyReLU", "LogSigmoid", "Softplus", "Softshrink", "PReLU",
                   "Softsign", "Tanhshrink", "Softmin", "Softmax", "Softmax2d", "LogSoftmax"),
    "adaptive": ("AdaptiveLogSoftmaxWithLoss",),
    "batchnorm": ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"),
    "conv": ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"),
    "distance": ("PairwiseDistance", "CosineSimilarity"),
    "dropout": ("Dropout", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"),
    "flatten": ("Flatten", "Unflatten"),
    "fold": ("Fold", "Unfold"),
    "instancenorm": ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"),
    "linear": ("Identity", "Linear", "Bilinear"),
    "loss": ("L1Loss", "NLLLoss", "PoissonNLLLoss", "GaussianNLLLoss", "KLDivLoss", "MSELoss",
             "BCELoss", "BCEWithLogitsLoss", "HingeEmbeddingLoss", "MultiLabelMarginLoss",
             "SmoothL1Loss", "HuberLoss", "SoftMarginLoss", "CrossEntropyLoss",
             "MultiLabelSoftMarginLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
             "MultiMarginLoss", "TripletMarginLoss", "TripletMarginWithDistanceLoss", "CTCLoss"),
    "normalization": ("LocalResponseNorm", "LayerNorm", "GroupNorm"),
    "padding": ("CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
                "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
                "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
                "ZeroPad3d"),
    "pixelshuffle": ("PixelShuffle", "PixelUnshuffle"),
    "pooling": ("MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
                "AvgPool1d", "AvgPool2d", "AvgPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
                "LPPool1d", "LPPool2d", "LPPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
                "AdaptiveMaxPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"),
    "rnn": ("RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"),
    "sparse": ("Embedding", "EmbeddingBag"),
    "upsampling": ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"),
}

BASES = {
    "batchnorm": {"_NormBase": "BatchNorm1d", "_BatchNorm": "BatchNorm1d"},
    "conv": {"_ConvNd": "Conv1d", "_ConvTransposeNd": "ConvTranspose1d"},
    "dropout": {"_DropoutNd": "Dropout"},
    "instancenorm": {"_InstanceNorm": "InstanceNorm1d"},
    "loss": {"_Loss": "L1Loss", "_WeightedLoss": "NLLLoss"},
    "padding": {"_ConstantPadNd": "ConstantPad1d", "_ReflectionPadNd": "ReflectionPad1d",
                "_ReplicationPadNd": "ReplicationPad1d", "_CircularPadNd": "CircularPad1d"},
    "pooling": {"_MaxPoolNd": "MaxPool1d", "_MaxUnpoolNd": "MaxUnpool1d", "_AvgPoolNd": "AvgPool1d",
                "_LPPoolNd": "LPPool1d", "_AdaptiveMaxPoolNd": "AdaptiveMaxPool1d",
                "_AdaptiveAvgPoolNd": "AdaptiveAvgPool1d"},
}


def core_names():
    """The submodules whose contents live in the core rather than in plugins."""
    from .. import containers, _tuples
    from ..module import Module

    return {
        "module": {"Module": Module},
        "container": {name: getattr(containers, name) for name in
                      ("Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict")},
        "utils": {"_ntuple": _tuples.ntuple, "_single": _tuples.single, "_pair": _tuples.pair,
                  "_triple": _tuples.triple, "_quadruple": _tuples.ntuple(4, "_quadruple"),
                  "_reverse_repeat_tuple": _tuples.reverse_repeat_tuple},
    }
