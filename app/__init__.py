"""ConvScope: see how the convolution in a CNN works, forward and backward."""

__version__ = "0.1.0"
