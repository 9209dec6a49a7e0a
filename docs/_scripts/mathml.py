"""MkDocs hook: TeX math rendered to MathML when the site is built.

pymdownx.arithmatex (``generic: true``) marks every formula, ``$...$`` inline and ``$$...$$``
as a block, as ``<span class="arithmatex">\\(...\\)</span>`` and
``<div class="arithmatex">\\[...\\]</div>``. This hook replaces each mark with the MathML that
``latex2mathml`` (pure Python, from PyPI) writes, which browsers draw natively: the built site
needs no JavaScript, no font download and no network, and neither does the build. A formula
that cannot be converted fails the build with its page and its TeX.
"""

import html
import logging
import re

from latex2mathml.converter import convert

log = logging.getLogger("mkdocs.hooks.mathml")

_MARK = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">(?P<body>.*?)</(?P=tag)>', re.DOTALL)
_DELIMS = {"span": (r"\(", r"\)"), "div": (r"\[", r"\]")}


_MATHREL = re.compile(r"<mo><mrow><mo>([^<]*)</mo></mrow></mo>")
_ENV = re.compile(r"\\begin\{([a-z*]+)\}(?:(?!\\begin\{).)*?\\end\{\1\}", re.DOTALL)


def _outside_environments(tex):
    """``tex`` with every \\begin{...}...\\end{...} removed (innermost first)."""
    previous = None
    while previous != tex:
        previous, tex = tex, _ENV.sub("", tex)
    return tex


def normalize(tex):
    """TeX as latex2mathml reads it best.

    ``aligned`` becomes ``align*``; a formula with rows (``\\\\``) or alignment points (``&``)
    outside any environment, as Sphinx's math directive accepts them, is wrapped in ``align*``.
    """
    tex = tex.replace(r"\begin{aligned}", r"\begin{align*}").replace(r"\end{aligned}", r"\end{align*}")
    top = _outside_environments(tex)
    if "&" in top or r"\\" in top:
        tex = r"\begin{align*}" + tex + r"\end{align*}"
    return tex


def tex_to_mathml(tex, display):
    """MathML for one formula, its TeX kept as an annotation (for copying and screen readers)."""
    mathml = convert(normalize(tex), display="block" if display else "inline")
    # \mathrel{X}: latex2mathml nests <mo><mrow><mo>X</mo></mrow></mo>; keep the operator, and
    # write the accumulation \mathrel{+}= as the one operator "+="
    mathml = _MATHREL.sub(r"<mo>\1</mo>", mathml).replace("<mo>&#x0002B;</mo><mo>&#x0003D;</mo>",
                                                         "<mo>+=</mo>")
    annotation = f'<annotation encoding="application/x-tex">{html.escape(tex)}</annotation>'
    # wrap the presentation in <semantics> so the TeX travels with it
    head, _, rest = mathml.partition(">")
    inner, _, _ = rest.rpartition("</math>")
    return f"{head}><semantics><mrow>{inner}</mrow>{annotation}</semantics></math>"


def on_page_content(html_text, page, **kwargs):
    def replace(match):
        tag, body = match["tag"], html.unescape(match["body"]).strip()
        start, end = _DELIMS[tag]
        if body.startswith(start) and body.endswith(end):
            body = body[len(start):-len(end)]
        try:
            mathml = tex_to_mathml(body.strip(), display=tag == "div")
        except Exception as exc:                   # any converter failure fails the build
            log.warning("%s: cannot render the formula %r: %s", page.file.src_uri, body, exc)
            return match[0]
        cls = "arithmatex arithmatex--block" if tag == "div" else "arithmatex"
        return f'<{tag} class="{cls}">{mathml}</{tag}>'

    return _MARK.sub(replace, html_text)
