"""A Griffe extension: the reST markup of nnscratch's docstrings, read as Markdown.

The docstrings are numpy-style with the reST that numpydoc and Sphinx read: ``.. math::``
blocks, ``:math:`...``` inline, ``:class:`` / ``:func:`` / ``:mod:`` ... roles, ``::`` literal
blocks, ``>>>`` examples and simple tables. mkdocstrings renders docstrings as Markdown, so
before they are parsed this extension rewrites, outside code:

- ``.. math::`` + indented body  ->  a ``$$ ... $$`` block (pymdownx.arithmatex);
- ``:math:`x```                  ->  ``$x$``;
- ``:class:`~a.b.C``` and friends ->  an optional cross-reference (a link where the target is
  in the reference, plain code where it is not: no warning either way);
- ``text::`` + indented block     ->  ``text:`` + a fenced code block;
- ``>>>`` lines                   ->  a fenced ``pycon`` block;
- a reST simple table (``===  ===`` rules) -> a Markdown table;
- prose written after the last entry of a Parameters list -> under a "Notes" heading (numpy
  style would read it as more parameters); such docstrings are named at INFO level.

It changes only what the guide shows; the source files are not touched. Loaded by
``mkdocs.yml`` (``handlers.python.options.extensions``).
"""

from __future__ import annotations

import html
import logging
import re

import griffe

_log = logging.getLogger("mkdocs.plugins.griffe_rst")
_SECTION = re.compile(r"^(\s*)(Parameters|Other Parameters|Attributes)\s*$")
_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")
_ENTRY = re.compile(r"^\*{0,2}\w+(\s*,\s*\*{0,2}\w+)*\s*(:.*)?$")

_ROLE = re.compile(r":(class|func|meth|mod|data|attr|exc|obj):`(~?)([^`<]+?)`")
_MATH = re.compile(r":math:`([^`]*)`")
_RULE = re.compile(r"^\s*=+(\s+=+)+\s*$")
_DIRECTIVE = re.compile(r"^(\s*)\.\. math::\s*(.*)$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _indent(line):
    return len(line) - len(line.lstrip())


def _module(obj):
    while obj is not None and not obj.is_module:
        obj = obj.parent
    return obj


def _class_path(obj):
    while obj is not None and not obj.is_class:
        if obj.is_module:
            return None
        obj = obj.parent
    return obj.path if obj is not None else None


def _identifier(obj, role, target):
    """The full dotted path a role's target most likely names."""
    if target.startswith("nnscratch"):
        return target
    mod = _module(obj)
    module = mod.path if mod is not None else ""
    if target.startswith("."):
        is_package = mod is not None and mod.is_init_module
        base = module if is_package else module.rpartition(".")[0]
        return base + "." + target.lstrip(".")
    if role in ("meth", "attr") and "." not in target:
        owner = _class_path(obj)
        if owner:
            return owner + "." + target
    return module + "." + target


def _roles(text, obj):
    def role(match):
        kind, short, target = match.groups()
        target = target.strip()
        title = target.rpartition(".")[2] if short else target.lstrip(".")
        if kind in ("func", "meth"):
            title += "()"
        identifier = _identifier(obj, kind, target.rstrip("()"))
        return (f'<autoref identifier="{html.escape(identifier)}" optional>'
                f"<code>{html.escape(title)}</code></autoref>")

    def math(match):
        return "$" + match.group(1).strip() + "$"

    text = _MATH.sub(math, text)
    return _ROLE.sub(role, text)


def _table(rows_text):
    """A reST simple table (its lines, rules included) as Markdown table lines."""
    rule = next(line for line in rows_text if _RULE.match(line))
    cols = [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]
    starts = [start for start, _ in cols]
    rules = [i for i, line in enumerate(rows_text) if _RULE.match(line)]
    header_end = rules[1] if len(rules) >= 3 else None
    rows = []
    for i, line in enumerate(rows_text):
        if _RULE.match(line):
            continue
        cells = []
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(line)
            cells.append(line[start:end].strip())
        if rows and not cells[0] and not (header_end is not None and i == header_end + 1):
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells)]   # continuation
        else:
            rows.append(cells)
        if header_end is not None and i < header_end:
            header_rows = len(rows)
    if header_end is None:
        header, body = [""] * len(starts), rows
    else:
        header, body = rows[0], rows[header_rows:] if header_rows else rows[1:]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(starts)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
    return out


def notes_after_entries(lines, obj):
    """Put a ``Notes`` heading before prose that follows a Parameters (or Attributes) list.

    In numpy style a section runs to the next heading, so a paragraph written after the last
    parameter is read as more parameters ("Parameter 'Clipping' does not appear in the
    signature"). A line at the section's own indentation, after a blank line, that is not an
    entry (``name``, ``a, b``, ``name : type``) starts such prose; it is shown under "Notes"
    and the docstring is named at INFO level, so it can be fixed in the source.
    """
    out, base, moved = [], None, False
    for i, line in enumerate(lines):
        heading = _SECTION.match(line)
        if heading and i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1]):
            base = heading.group(1)
        elif base is not None and line.strip() and i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1]):
            base = None                                          # the next section begins
        elif (base is not None and line.strip() and _indent(line) == len(base)
              and i > 0 and not lines[i - 1].strip() and not _ENTRY.match(line.strip())):
            out += [base + "Notes", base + "-----"]
            base, moved = None, True
        out.append(line)
    if moved:
        _log.info("docstring of %s: prose after its parameter list, shown under Notes "
                  "(add a 'Notes' heading, or move it above 'Parameters')", obj.path)
    return out


def convert(text, obj):
    """The Markdown form of one docstring."""
    lines = notes_after_entries(text.splitlines(), obj)
    out = []          # (kind, line): "text" lines get the roles rewritten, "code" lines not
    text = lambda items: out.extend(("text", item) for item in items)  # noqa: E731
    code = lambda items: out.extend(("code", item) for item in items)  # noqa: E731
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:                                               # an existing fence: keep it
            code([line])
            i += 1
            while i < len(lines):
                code([lines[i]])
                i += 1
                if lines[i - 1].strip().startswith(fence.group(1)):
                    break
            continue
        directive = _DIRECTIVE.match(line)
        if directive:                                           # .. math:: -> $$ ... $$
            pad, inline = directive.groups()
            body = [pad + "    " + inline] if inline.strip() else []
            i += 1
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(pad)):
                body.append(lines[i])
                i += 1
            body = [_ROLE.sub(lambda m: r"\text{" + m.group(3).rpartition(".")[2] + "}", b)
                    for b in body if b.strip()]        # a role inside math: as text
            cut = min((_indent(b) for b in body), default=0)
            code(["", pad + "$$"] + [pad + b[cut:] for b in body] + [pad + "$$", ""])
            continue
        if line.lstrip().startswith(">>>"):                    # doctest -> pycon fence
            pad = line[:_indent(line)]
            block = []
            while i < len(lines) and lines[i].strip() and _indent(lines[i]) >= len(pad):
                block.append(pad + lines[i][len(pad):])
                i += 1
            code(["", pad + "```pycon"] + block + [pad + "```", ""])
            continue
        if _RULE.match(line):                                   # simple table -> Markdown
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            if sum(bool(_RULE.match(b)) for b in block) >= 2:
                pad = line[:_indent(line)]
                text([""] + [pad + row for row in _table(block)] + [""])
            else:
                text(block)
            continue
        if line.rstrip().endswith("::") and not line.rstrip().endswith(":::"):   # literal block
            head = line.rstrip()[:-2].rstrip()
            if head.strip():
                text([head + ":"])
            pad = _indent(line)
            i += 1
            block = []
            while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > pad):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            cut = min((_indent(b) for b in block if b.strip()), default=0)
            code(["", " " * pad + "```text"]
                 + [(" " * pad + b[cut:]) if b.strip() else "" for b in block]
                 + [" " * pad + "```", ""])
            continue
        text([line])
        i += 1
    result, run = [], []
    for kind, item in out + [("code", None)]:
        if kind == "text":
            run.append(item)
            continue
        if run:
            result.append(_roles("\n".join(run), obj))
            run = []
        if item is not None:
            result.append(item)
    return "\n".join(result)


class RstToMarkdown(griffe.Extension):
    """Rewrite every docstring's reST markup as Markdown when Griffe loads it."""

    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None and not getattr(obj.docstring, "_nns_converted", False):
            obj.docstring.value = convert(obj.docstring.value, obj)
            obj.docstring._nns_converted = True
