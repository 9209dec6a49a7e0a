"""MkDocs hook: the members of a public module, listed when the guide is built.

A reference page holds a marker line

    <!-- members: nnscratch.callbacks -->

which becomes one mkdocstrings block (``::: nnscratch.callbacks.EarlyStopping``) per public
member of the module *as it is imported*: ``import nnscratch`` and the attribute path, so
``nnscratch.schedules`` keeps working when its file moves, and a module split into a package
keeps its whole reference. A member is public when it is a class or a function with its own
docstring, its name has no leading underscore, and it is either listed in ``__all__`` or defined
in the module or a submodule of it (so names imported from elsewhere, such as an error class,
stay on their own page). Order: ``__all__`` first, then by defining file and line.
"""

import functools
import importlib
import inspect
import re

_MARKER = re.compile(r"^<!-- members: ([\w.]+) -->$", re.MULTILINE)


def public_members(path):
    """``[(name, object)]`` documented on the page of module ``path`` (e.g. "nnscratch.losses")."""
    root, *rest = path.split(".")
    module = functools.reduce(getattr, rest, importlib.import_module(root))
    listed = list(getattr(module, "__all__", ()))
    inside = module.__name__

    def eligible(name, obj):
        return (not name.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                and obj.__doc__ and obj.__doc__.strip())

    def own(obj):
        where = getattr(obj, "__module__", "") or ""
        return where == inside or where.startswith(inside + ".")

    chosen = [(name, getattr(module, name)) for name in listed
              if hasattr(module, name) and eligible(name, getattr(module, name))]
    taken = {name for name, _ in chosen} | {id(obj) for _, obj in chosen}
    rest_members = []
    for name, obj in vars(module).items():             # one entry per object (no aliases)
        if name not in taken and id(obj) not in taken and eligible(name, obj) and own(obj):
            rest_members.append((name, obj))
            taken.add(id(obj))

    def position(item):
        obj = item[1]
        try:
            line = inspect.getsourcelines(obj)[1]
        except (OSError, TypeError):
            line = 0
        where = obj.__module__
        return (where != inside, where, line)          # the module's own first, then by file

    return chosen + sorted(rest_members, key=position)


def on_page_markdown(markdown, page, **kwargs):
    def expand(match):
        path = match.group(1)
        blocks = [f"::: {path}.{name}\n    options:\n      heading_level: 2\n"
                  for name, _ in public_members(path)]
        return "\n".join(blocks)

    return _MARKER.sub(expand, markdown)
