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


# Set by backward() once it has filled a .grad: before that a None .grad read warns.
GRADS_FILLED = [False]


class Tensor:
    """An n-dimensional array recorded into nabla_like's graph IR.

    `nb.Tensor(data, dtype=None, requires_grad=False)` is `nb.tensor(data, ...)`.

    Example:
        >>> x = nb.tensor([1.0, 2.0, 3.0])
        >>> (x * 2).numpy()
        array([2., 4., 6.], dtype=float32)
    """

    __slots__ = ("_value", "_grad", "__weakref__")
    __array_priority__ = 100  # NumPy defers binary operators to Tensor

    @staticmethod
    def _wrap(value: Value) -> "Tensor":
        t = object.__new__(Tensor)
        t._value = value
        t._grad = None
        return t

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        from .creation import _dtype_arg, _grad_flag, _tensor
        other = _tensor("Tensor", data, _dtype_arg("Tensor", dtype))
        self._value = other._value
        self._grad = None
        if requires_grad is not False:
            if _grad_flag("Tensor", requires_grad, self.dtype):
                # a leaf of its own: its Value is new and names this object as its tensor
                v = self._value
                if other is data or v.requires_grad or v.ctx.level != 0:
                    self._value = other.detach()._value
                self.requires_grad_()

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
        """The Device this tensor lives on (see nb.default_device)."""
        from .placement import device_of
        return device_of(self)

    @property
    def sharding(self):
        """How this tensor is laid out over a mesh (nb.shard, jit's out_shardings), or None
        for a tensor on one device. A pending result over a mesh is computed first: XLA
        chooses its layout when it compiles the program."""
        v = self._value
        if v.sharding is None and v.buffer is None and v.ctx.level == 0 and v.device is not None \
                and hasattr(v.device, "group"):
            self.realize()
        return v.sharding

    def to(self, device) -> "Tensor":
        """This tensor on `device` ("cpu", "cpu:1", "gpu", a Device or a Tensor): itself if
        it is there already, else a copy. A dtype converts instead (`t.to(nb.float16)`).

        Example:
            >>> nb.tensor([1.0, 2.0]).to("cpu").device
            Device(cpu:0)
        """
        if isinstance(device, DType) or (isinstance(device, str) and ":" not in device
                                         and device not in ("cpu", "gpu", "cuda")):
            return self.astype(device)  # t.to(nb.float32), as in PyTorch
        from .placement import to_device
        return to_device(self, device)

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

    def to_numpy(self) -> np.ndarray:
        """The data as a NumPy array (the same as `numpy()`).

        Example:
            >>> nb.arange(3).to_numpy()
            array([0, 1, 2], dtype=int32)
        """
        from . import lazy
        return lazy.to_numpy(self, "to_numpy")

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

    # -- shape helpers and in-place updates (recorded as functional updates) --------------
    def t(self) -> "Tensor":
        """The transpose of a matrix; a 0-d or 1-d tensor is returned as is (torch's `t()`).

        Example:
            >>> nb.ones((2, 3)).t().shape
            (3, 2)
        """
        if self.ndim < 2:
            return self
        if self.ndim > 2:
            from .errors import ShapeError, raise_error
            raise_error(ShapeError, "t", f"expects a tensor of at most 2 dimensions, got "
                        f"{self._value.aval.short()}; use .mT or nb.swapaxes for batches")
        from .ops.shape import transpose
        return transpose(self)

    def unbind(self, dim: int = 0) -> tuple:
        """The slices of this tensor along `dim`, as a tuple (see nb.unbind).

        Example:
            >>> a, b = nb.ones((2, 3)).unbind()
            >>> a.shape
            (3,)
        """
        import nabla_like
        unbind = getattr(nabla_like, "unbind", None)
        if unbind is None:  # nb.unbind lives in ops/compat.py (not loaded in this build)
            from .errors import UsageError, raise_error
            raise_error(UsageError, "unbind", "nb.unbind is not available in this build")
        return unbind(self, dim)

    def __setitem__(self, index, value) -> None:
        """`x[index] = value`: x becomes `x.at[index].set(value)`, recorded like `+=` (so it
        is differentiable, and works under jit and grad). `value` is cast to x's dtype and
        broadcast to the indexed shape. Only this tensor object changes: tensors computed
        from x before, views included, keep the old values (unlike PyTorch's views).

        Example:
            >>> x = nb.zeros(4)
            >>> x[1:3] = 5.0
            >>> x.numpy()
            array([0., 5., 5., 0.], dtype=float32)
        """
        from . import autograd
        from .creation import _update_value
        from .ops.indexing import _update
        value = _update_value("setitem", value, self)
        if isinstance(index, Tensor) and index.dtype.kind == "b" and index.shape == self.shape \
                and value.ndim == 0:
            # x[mask] = scalar: a select, so a traced mask works too (and nothing is read)
            from .ops.elementwise import where
            result = where(index, value, self)
            if result.dtype is not self.dtype:
                result = result.astype(self.dtype)
        else:
            result = _update("setitem", self, index, value, "set")
        autograd.update_inplace(self, result)

    def zero_(self) -> "Tensor":
        """Set every element to zero in place, as `x[...] = 0` (`w.grad.zero_()` works
        after backward(), as in PyTorch); returns self.

        Example:
            >>> x = nb.ones(2)
            >>> x.zero_().numpy()
            array([0., 0.], dtype=float32)
        """
        from . import autograd
        from .core import full_in
        aval = self._value.aval
        return autograd.update_inplace(self, full_in(self._value.ctx, aval.shape, 0, aval.dtype,
                                                     aval.weak))

    def __repr__(self) -> str:
        from . import lazy
        return lazy.format_tensor(self)

    __str__ = __repr__

    def _repr_pretty_(self, p, cycle) -> None:  # IPython
        p.text(repr(self))

    def _repr_html_(self) -> str:  # Jupyter
        from .display import tensor_html
        return tensor_html(self)

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
    def grad(self) -> "Tensor | None":
        """The gradient backward() accumulated into this leaf, or None. Reading a parameter's
        None `.grad` before any backward() ran warns (GradNotFilledWarning): arithmetic
        on it would otherwise fail with an unexplained NoneType error."""
        g = self._grad
        if g is None and not GRADS_FILLED[0] and self._value.requires_grad:
            import warnings
            from .errors import GradNotFilledWarning, user_frame
            frame = user_frame(2)
            warnings.warn_explicit(
                f"{self._value.aval.short()}.grad is None: backward() has not filled it yet "
                f"(it fills .grad of the leaves with requires_grad=True that the loss "
                f"depends on)", GradNotFilledWarning,
                frame.f_code.co_filename if frame else "<unknown>", frame.f_lineno if frame else 0)
        return g

    @grad.setter
    def grad(self, value) -> None:
        self._grad = value

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
    def grad_fn(self):
        """What recorded this tensor's gradient history: None for leaves and for tensors
        without history, else a GradFn naming the primitive (`.name`, `.next_functions`).

        Example:
            >>> w = nb.ones(2, requires_grad=True)
            >>> (w * 2.0).grad_fn
            GradFn(mul)
        """
        from . import autograd
        return autograd.grad_fn_of(self._value)

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
        self._grad = None

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


from . import tree as _tree  # noqa: E402  (tensors are pytree leaves, tested first)
_tree._LEAF_TYPES.add(Tensor)
