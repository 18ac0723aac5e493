"""The user-facing Tensor: a handle on an IR Value.

A Tensor is eager-lazy (its Value lives in the lazy context and is computed
when read) or traced (its Value lives in a trace and has no data). Reading
data (`numpy()`, `item()`, `repr`, `__array__`, `__dlpack__`, `tolist()`,
`bool()`, `realize()`) materializes it. Operator methods are installed by
`nabla_like.ops` so that this module stays free of op definitions.
"""
from __future__ import annotations

import numpy as np

from .dtypes import DType
from .ir import Aval, Value


class Tensor:
    """An n-dimensional array recorded into nabla_like's graph IR.

    Example:
        >>> x = nb.tensor([1.0, 2.0, 3.0])
        >>> (x * 2).numpy()
        array([2., 4., 6.], dtype=float32)
    """

    __slots__ = ("_value", "grad", "__weakref__")
    __array_priority__ = 100  # NumPy defers binary operators to Tensor

    @staticmethod
    def _wrap(value: Value) -> "Tensor":
        t = object.__new__(Tensor)
        t._value = value
        t.grad = None
        return t

    def __init__(self, data, dtype=None):
        from .creation import tensor as make
        other = make(data, dtype=dtype)
        self._value = other._value
        self.grad = None

    # -- metadata ----------------------------------------------------------
    @property
    def aval(self) -> Aval:
        return self._value.aval

    @property
    def shape(self) -> tuple[int, ...]:
        return self._value.aval.shape

    @property
    def dtype(self) -> DType:
        return self._value.aval.dtype

    @property
    def ndim(self) -> int:
        return len(self._value.aval.shape)

    @property
    def size(self) -> int:
        return self._value.aval.size

    @property
    def weak_type(self) -> bool:
        return self._value.aval.weak

    def __len__(self) -> int:
        if not self.shape:
            from .errors import UsageError, raise_error
            raise_error(UsageError, "len", "len() of a 0-d tensor")
        return self.shape[0]

    @property
    def is_traced(self) -> bool:
        return self._value.ctx.level != 0

    @property
    def device(self):
        from . import lazy
        return lazy.device_of(self)

    # -- materialization -------------------------------------------------------
    def realize(self) -> "Tensor":
        """Compute this tensor now (with every other pending tensor still alive); returns self."""
        from . import lazy
        lazy.realize((self,), "realize")
        return self

    def block_until_ready(self) -> "Tensor":
        """Compute this tensor and wait until its data is ready; returns self."""
        from . import lazy
        lazy.block_until_ready(self)
        return self

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (a read-only view of the device buffer on the CPU)."""
        from . import lazy
        return lazy.to_numpy(self, "numpy")

    def __array__(self, dtype=None, copy=None):
        from . import lazy
        arr = lazy.to_numpy(self, "__array__")
        if dtype is not None and np.dtype(dtype) != arr.dtype:
            return arr.astype(dtype)
        if copy:
            return arr.copy()
        return arr

    def item(self):
        """The value of a one-element tensor as a Python scalar."""
        from . import lazy
        return lazy.item(self)

    def tolist(self):
        return self.numpy().tolist()

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        from . import lazy
        return lazy.dlpack(self)

    def __dlpack_device__(self):
        from . import lazy
        return lazy.dlpack_device(self)

    def __bool__(self) -> bool:
        from . import lazy
        return bool(lazy.item(self, "bool"))

    def __int__(self) -> int:
        from . import lazy
        return int(lazy.item(self, "int"))

    def __float__(self) -> float:
        from . import lazy
        return float(lazy.item(self, "float"))

    def __index__(self) -> int:
        from . import lazy
        if self.dtype.kind not in "iub":
            from .errors import UsageError, raise_error
            raise_error(UsageError, "__index__", f"only integer tensors can be used as an index, "
                        f"not {self.dtype}")
        return int(lazy.item(self, "index"))

    def __complex__(self) -> complex:
        return complex(float(self))

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        from . import lazy
        return lazy.format_tensor(self)

    __str__ = __repr__

    def _repr_pretty_(self, p, cycle) -> None:  # IPython
        p.text(repr(self))

    def __iter__(self):
        if not self.shape:
            from .errors import UsageError, raise_error
            raise_error(UsageError, "iter", "iteration over a 0-d tensor")
        for i in range(self.shape[0]):
            yield self[i]

    def __reduce__(self):
        return (_from_numpy_for_pickle, (np.array(self.numpy()),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    # -- autograd attributes -------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._value.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        """Mark this (leaf) tensor as a parameter whose `.grad` backward() fills."""
        from . import autograd
        autograd.set_requires_grad(self, flag)
        return self

    @property
    def is_leaf(self) -> bool:
        v = self._value
        return not v.requires_grad or v.leaf_tensor is not None

    def backward(self, cotangent=None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad
        (see nb.backward)."""
        from . import autograd
        autograd.backward([self], None if cotangent is None else [cotangent], retain_graph,
                          create_graph)

    def zero_grad(self) -> None:
        self.grad = None

    def detach(self) -> "Tensor":
        """The same values, cut from gradient history (see nb.stop_gradient)."""
        from .ops.elementwise import stop_gradient
        return stop_gradient(self)

    @property
    def data(self) -> "Tensor":
        return self.detach()

    @data.setter
    def data(self, other) -> None:
        from . import autograd
        autograd.assign_data(self, other)


def _from_numpy_for_pickle(array):
    from .creation import tensor
    return tensor(array)
