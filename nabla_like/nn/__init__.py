"""Neural networks: `Module` and layers (PyTorch's API, each module a pytree),
`nb.nn.functional` (pure functions), `nb.nn.init` (initializers) and LoRA adapters.

Example:
    >>> model = nb.nn.Sequential(nb.nn.Linear(784, 128), nb.nn.ReLU(), nb.nn.Linear(128, 10))
    >>> loss = nb.nn.functional.cross_entropy(model(x), labels)
    >>> loss.backward()                                  # imperative, or
    >>> loss, grads = nb.value_and_grad(lambda m: ...)(model)   # functional
"""
from . import functional, init, lora  # noqa: F401
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers
from .module import Module, trainable  # noqa: F401

__all__ = ["Module", "trainable", "functional", "init", "lora", *_layers]
