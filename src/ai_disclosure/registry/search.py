"""What ``q`` means, one definition for both backends (sans I/O).

An entry matches when every word of the query starts a word of the entry, case- and
accent-insensitively: ``Déch`` finds ``déchets``, ``eau`` does not find ``réseau``.
Matches are ranked: words of an entry's titles (its name, its service's name, its
id) weigh more than words of its other texts.

Both texts and queries are cut into words here, by this module, and folded here
(NFKD, marks dropped, casefolded): the database only ever sees lists of lowercase
letters and digits. So the two backends cannot disagree about what a word or an
accent is - PostgreSQL's parser and ``unaccent`` rules, or SQLite's tokenizer
tables, never decide it - and no query text can carry full-text syntax: every term
is quoted, and holds nothing a quote could break out of.

No per-language stemming: one entry holds several languages, and stemming it the
French way mangles its English; prefixes give what people type (``mobil`` finds
``mobilité`` and ``mobility``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = [
    "MAX_TERMS",
    "MAX_WORD",
    "fold",
    "fts5_query",
    "terms",
    "tsquery",
    "words",
]

#: Query words kept: a query is what a person types, and each term is one more
#: index lookup.
MAX_TERMS = 8
#: Longest word kept (characters); longer runs are cut, in texts and queries alike.
MAX_WORD = 64


def _split(folded: str) -> list[str]:
    """Runs of letters and decimal digits. Other numerals (``²``, ``½``) mostly fold
    into digits; those that do not separate words, as PostgreSQL's parser treats them."""
    cleaned = "".join(c if c.isalpha() or c.isdecimal() else " " for c in folded)
    return cleaned.split()


#: Letters that Unicode does not decompose but that people type otherwise:
#: ``oeuvre`` for ``œuvre``, ``Lodz`` for ``Łódź``.
_SPELLED = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d"})


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Déchets', 'DECHETS' and 'dechets' fold
    alike, and so do 'Œuvre' and 'oeuvre'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SPELLED))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(texts: Iterable[str | None]) -> str:
    """The distinct folded words of ``texts``, space-separated, in first-seen order:
    what the search indexes of an entry."""
    seen: dict[str, None] = {}
    for text in texts:
        if text:
            for word in _split(fold(text)):
                seen.setdefault(word[:MAX_WORD], None)
    return " ".join(seen)


def terms(query: str | None) -> list[str]:
    """The folded words of a query (at most ``MAX_TERMS``, each once); empty when it
    has no letter or digit, which then filters nothing."""
    found = words([query]).split() if query else []
    return found[:MAX_TERMS]


def fts5_query(query_terms: Iterable[str]) -> str:
    """An FTS5 MATCH expression: every term, quoted, as a prefix (implicit AND)."""
    return " ".join('"' + term.replace('"', '""') + '"*' for term in query_terms)


def tsquery(query_terms: Iterable[str]) -> str:
    """A PostgreSQL ``tsquery`` literal: every term, quoted, as a prefix, ANDed."""
    return " & ".join(
        "'" + term.replace("\\", "\\\\").replace("'", "''") + "':*" for term in query_terms
    )
