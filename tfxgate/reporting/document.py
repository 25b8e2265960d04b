"""A tiny document model (sections of paragraphs, bullet lists, tables) rendered as Markdown and HTML.

The model card (tfxgate/reporting/model_card.py) is written once as a `Document` and
rendered twice, so the two files always say the same thing. Every piece of
text is escaped at render time, whatever its source (slice names and feature
values come from the data, intended use from the config): in HTML by
`html.escape`, in Markdown by escaping HTML and table syntax, since Markdown
viewers render raw HTML. The HTML page is self-contained: inline CSS, no
script, no external asset.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Union


@dataclass
class Paragraph:
    text: str
    strong: bool = False


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    failed_rows: set[int] = field(default_factory=set)  # row indexes shown as failed


Block = Union[Paragraph, Bullets, Table]


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    title: str
    sections: list[Section] = field(default_factory=list)


def _md_text(text: str) -> str:
    return html.escape(str(text), quote=False).replace("\n", " ")


def _md_cell(text: str) -> str:
    return _md_text(text).replace("\\", "\\\\").replace("|", "\\|")


def to_markdown(document: Document) -> str:
    lines = [f"# {_md_text(document.title)}", ""]
    for section in document.sections:
        lines += [f"## {_md_text(section.title)}", ""]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                body = _md_text(block.text)
                lines += [f"**{body}**" if block.strong else body, ""]
            elif isinstance(block, Bullets):
                lines += [f"- {_md_text(item)}" for item in block.items] + [""]
            else:
                lines.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
                lines.append("|" + "---|" * len(block.header))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
                lines.append("")
    return "\n".join(lines)


_STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
    "tr.failed td{background:#f5b7b1}h2{border-bottom:1px solid #ddd}"
)


def to_html(document: Document) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(document.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(document.title)}</h1>",
    ]
    for section in document.sections:
        parts.append(f"<h2>{esc(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Paragraph):
                body = esc(block.text)
                parts.append(f"<p><b>{body}</b></p>" if block.strong else f"<p>{body}</p>")
            elif isinstance(block, Bullets):
                parts.append("<ul>" + "".join(f"<li>{esc(item)}</li>" for item in block.items) + "</ul>")
            else:
                head = "".join(f"<th>{esc(h)}</th>" for h in block.header)
                rows = []
                for i, row in enumerate(block.rows):
                    css = ' class="failed"' if i in block.failed_rows else ""
                    rows.append(f"<tr{css}>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
                parts.append(f"<table><tr>{head}</tr>{''.join(rows)}</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
