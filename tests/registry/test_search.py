"""What ``q`` means, before any database: words, folding, quoting."""

from __future__ import annotations

from ai_disclosure.registry.search import (
    MAX_TERMS,
    MAX_WORD,
    fold,
    fts5_query,
    terms,
    tsquery,
    words,
)


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Déchets ÉLÈVES Straße") == fold("dechets eleves strasse")
    assert fold("ﬁn") == "fin"  # compatibility forms fold too
    assert fold("Œuvre Łódź") == fold("oeuvre lodz")


def test_words_are_runs_of_letters_and_digits_each_kept_once() -> None:
    assert words(["Assistant tri-des déchets", None, "l'eau, l’Eau : 3 fois", ""]) == (
        "assistant tri des dechets l eau 3 fois"
    )
    assert words(["mistral_small x²"]) == "mistral small x2"
    assert words(["مساعد فرز النفايات"]) == "مساعد فرز النفايات"
    assert words(["a" * (MAX_WORD + 10)]) == "a" * MAX_WORD


def test_terms_of_a_query() -> None:
    assert terms("  Déch  MOBILITÉ déch ") == ["dech", "mobilite"]
    assert terms(None) == terms("") == terms(" '\"*:&|!() ") == []
    assert len(terms(" ".join(f"w{n}" for n in range(MAX_TERMS * 2)))) == MAX_TERMS


def test_queries_quote_every_term() -> None:
    assert fts5_query(["eau", "dech"]) == '"eau"* "dech"*'
    assert tsquery(["eau", "dech"]) == "'eau':* & 'dech':*"
    # Terms come from ``terms`` (letters and digits only); quoting holds even so.
    assert fts5_query(['a"b']) == '"a""b"*'
    assert tsquery(["a'b\\"]) == "'a''b\\\\':*"
