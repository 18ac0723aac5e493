"""Neural networks: `Module` and layers (PyTorch's API, each module a pytree),
`nb.nn.functional` (pure functions), `nb.nn.init` (initializers) and LoRA adapters.

Example:
    >>> model = nb.nn.Sequential(nb.nn.Linear(4, 8), nb.nn.ReLU(), nb.nn.Linear(8, 3))
    >>> x, labels = nb.ones((2, 4)), nb.tensor([0, 2])
    >>> loss = nb.nn.functional.cross_entropy(model(x), labels)
    >>> loss.backward()                                   # imperative: fills .grad
    >>> model[0].weight.grad.shape
    (8, 4)
    >>> loss_fn = lambda m: nb.nn.functional.cross_entropy(m(x), labels)
    >>> loss, grads = nb.value_and_grad(loss_fn)(model)   # functional: grads is a module
    >>> type(grads).__name__, grads[0].weight.shape
    ('Sequential', (8, 4))
"""
from . import functional, init, lora  # noqa: F401
from .layers import *  # noqa: F401,F403
from .layers import __all__ as _layers
from .module import Module, trainable  # noqa: F401

__all__ = ["Module", "trainable", "functional", "init", "lora", *_layers]
