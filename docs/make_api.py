"""Writes docs/api.md, the API reference, from the public modules' docstrings.

    python docs/make_api.py          # rewrite docs/api.md
    python docs/make_api.py --check  # exit 1 if docs/api.md is out of date (the tests do this)

Each module's section opens with its docstring; each public name appears once, under the
first module that exports it, with its signature and its docstring; the examples in the
docstrings are run by tests/test_docstrings.py."""
import argparse
import importlib
import inspect
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "api.md")

# (module, what it is for): the order of the reference.
MODULES = [
    ("nabla_like", "tensors, ops, transforms, jit, autograd, control flow, devices"),
    ("nabla_like.nn", "modules and layers"),
    ("nabla_like.nn.functional", "neural-network ops as functions"),
    ("nabla_like.nn.init", "key-based parameter initializers"),
    ("nabla_like.nn.lora", "LoRA and QLoRA adapters"),
    ("nabla_like.optim", "optimizers, schedules, clipping"),
    ("nabla_like.linalg", "linear algebra"),
    ("nabla_like.random", "random numbers from explicit keys"),
    ("nabla_like.tree", "pytree utilities"),
    ("nabla_like.distributed", "one program across processes"),
]


def public(module: str) -> list[tuple[str, object]]:
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
    return [(n, getattr(mod, n)) for n in names
            if hasattr(mod, n) and not inspect.ismodule(getattr(mod, n))]


def _signature(name: str, obj) -> str:
    target = obj.__init__ if inspect.isclass(obj) and "__init__" in vars(obj) else obj
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return name
    params = [p for p in sig.parameters.values() if not (inspect.isclass(obj) and p.name == "self")]
    text = str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))
    return name + re.sub(r" at 0x[0-9a-f]+", "", text)  # default objects' addresses vary


def _kind(obj) -> str:
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    return "function" if callable(obj) else "constant"


def _value(obj) -> str:
    text = repr(obj)
    return re.sub(r" at 0x[0-9a-f]+", "", text if len(text) < 100 else text[:97] + "...")


def _body(doc: str) -> str:
    """The docstring as Markdown: each run of example lines (from a `>>>` to the next blank
    line) becomes a fenced block, indented as in the docstring."""
    out, block, indent = [], [], None
    for line in inspect.cleandoc(doc).splitlines() + [""]:
        if indent is None and line.lstrip().startswith(">>>"):
            indent = len(line) - len(line.lstrip())
        if indent is not None and line.strip():
            block.append(line[indent:] if line[:indent].isspace() or not indent else line.strip())
            continue
        if block:
            out.extend(["", "```python", *block, "```"])
            block, indent = [], None
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def render() -> str:
    seen: set[int] = set()
    parts = ["# API reference", "",
             "Generated from the docstrings by `python docs/make_api.py`; the examples run in the "
             "test suite (tests/test_docstrings.py), so each output shown is what the call prints.",
             "", "Modules:", ""]
    sections = []
    for module, about in MODULES:
        entries = []
        for name, obj in sorted(public(module), key=lambda item: item[0].lower()):
            if id(obj) in seen or not (callable(obj) or inspect.getdoc(obj)):
                continue
            seen.add(id(obj))
            doc = inspect.getdoc(obj) if (callable(obj) or inspect.isclass(obj)) else None
            short = module.replace("nabla_like", "nb")
            if _kind(obj) == "constant":
                entries.append(f"### `{short}.{name}`\n\n*constant*: `{_value(obj)}`")
                continue
            entries.append(f"### `{short}.{_signature(name, obj)}`\n\n*{_kind(obj)}*"
                           + (f"\n\n{_body(doc)}" if doc else ""))
        anchor = module.replace(".", "")
        parts.append(f"* [`{module}`](#{anchor}): {about} ({len(entries)} names)")
        intro = inspect.getdoc(importlib.import_module(module))
        sections.append(f"## {module}\n\n" + (f"{_body(intro)}\n\n" if intro else "")
                        + "\n\n".join(entries))
    return "\n".join(parts) + "\n\n" + "\n\n".join(sections) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="fail if docs/api.md is out of date")
    args = p.parse_args()
    sys.path.insert(0, os.path.dirname(HERE))
    text = render()
    if args.check:
        current = open(OUT).read() if os.path.exists(OUT) else ""
        if current != text:
            print("docs/api.md is out of date: run `python docs/make_api.py`", file=sys.stderr)
            return 1
        return 0
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
