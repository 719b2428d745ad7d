"""Cut an Evidence Inference `annotations/txt_files/*.txt` article to its
title + abstract, the way /work/shared/corpus/pmc-dev/ was made.

Source files (jayded/evidence-inference, headed format) look like::

    TITLE: \n<title>\n\n\n\nABSTRACT.BACKGROUND:\n...\n\nABSTRACT.RESULTS:\n...
    \n\nBODY.INTRODUCTION:\n<body text> ...

Rule: keep everything before the first line that starts with ``BODY.`` or
``BODY:`` (the first BODY heading; a few files have a bare ``BODY:`` heading), drop the trailing newlines/blank lines that
separate the abstract from that heading, and end the text with exactly one
``\\n``. Nothing else is changed (the ``TITLE:`` line with its trailing
space, the three blank lines after the title, the ``ABSTRACT.X:`` headings,
all characters inside the abstract are kept as they are).

Only newline characters are stripped at the end (``rstrip("\\n")``), so a
trailing space at the end of the abstract, if any, would be kept.
"""
import re

_BODY = re.compile(r"^BODY[.:]", re.M)


def cut(text: str) -> str:
    """Return title + abstract of an article text, with one final newline."""
    m = _BODY.search(text)
    if m is None:
        raise ValueError("no BODY heading line found")
    return text[: m.start()].rstrip("\n") + "\n"


if __name__ == "__main__":
    import hashlib
    import sys
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            out = cut(f.read())
        b = out.encode("utf-8")
        print(path, len(out), hashlib.sha256(b).hexdigest())
