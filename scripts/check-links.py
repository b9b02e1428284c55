#!/usr/bin/env python3
"""Checks the relative links of kvd's documentation.

Usage: check-links.py [SOURCE_ROOT]

For README.md, doc/*.md, proto/PROTOCOL.md, bench/README.md and
clients/*/README.md under SOURCE_ROOT (default: the checkout this script is
in), every relative link must point to a file or directory that exists, and
a link with an #anchor into a Markdown file to one of its headings (GitHub's
slugs: lower case, punctuation dropped, spaces as hyphens, "-1", "-2"... for
repeats) or to an explicit id/name. Links with a scheme (https:, mailto:) are not checked.
Prints each broken link as FILE:LINE: TARGET: why, and exits 1 if there
is any, else 0."""
import re
import sys
from pathlib import Path

DOCUMENTS = ["README.md", "doc/*.md", "proto/PROTOCOL.md", "bench/README.md",
             "clients/*/README.md"]

FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target), the target optionally in <...> and
# followed by a title.
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ID = re.compile(r"<a\s[^>]*(?:id|name)=\"([^\"]+)\"", re.IGNORECASE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML tags
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def lines_outside_code(path):
    """(number, text, text with code spans blanked) of each line outside fenced code."""
    in_fence = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = FENCE.match(line)
        if fence:
            if in_fence is None:
                in_fence = fence.group(1)
            elif fence.group(1) == in_fence:
                in_fence = None
            continue
        if in_fence is None:
            yield number, line, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


_anchors = {}


def anchors(path):
    """The anchors a Markdown file defines: its headings' slugs and explicit ids."""
    if path not in _anchors:
        found = set()
        seen = {}
        for _, line, blanked in lines_outside_code(path):
            heading = HEADING.match(line)
            if heading:
                base = slug(heading.group(2))
                count = seen.get(base, 0)
                seen[base] = count + 1
                found.add(base if count == 0 else f"{base}-{count}")
            found.update(HTML_ID.findall(blanked))
        _anchors[path] = found
    return _anchors[path]


def shown(path, root):
    return path.relative_to(root) if path.is_relative_to(root) else path


def check(path, root):
    """The broken links of the Markdown file `path`, one message each."""
    errors = []
    for number, line, blanked in lines_outside_code(path):
        # Links are found where code spans are blanked out; their targets are
        # read from the line itself, at the same positions.
        spans = [m.span(1) for m in INLINE_LINK.finditer(blanked)]
        definition = REFERENCE_DEF.match(blanked)
        if definition:
            spans.append(definition.span(1))
        for start, end in spans:
            target = line[start:end].strip("<>")
            if not target or SCHEME.match(target):
                continue
            file_part, _, anchor = target.partition("#")
            destination = (path.parent / file_part).resolve() if file_part else path
            where = f"{shown(path, root)}:{number}: {target}"
            if not destination.exists():
                errors.append(f"{where}: no such file or directory")
            elif anchor and destination.is_file() and destination.suffix == ".md":
                if anchor not in anchors(destination):
                    errors.append(f"{where}: no heading with the anchor #{anchor} in "
                                  f"{shown(destination, root)}")
    return errors


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    root = root.resolve()
    documents = sorted({p for pattern in DOCUMENTS for p in root.glob(pattern)})
    if not documents:
        print(f"check-links: no documents under {root}", file=sys.stderr)
        return 1
    errors = []
    for document in documents:
        errors += check(document, root)
    for error in errors:
        print(error)
    if errors:
        print(f"check-links: {len(errors)} broken link(s) in {len(documents)} documents",
              file=sys.stderr)
        return 1
    print(f"check-links: every relative link in {len(documents)} documents resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
