"""Check claims against the corpus: verdicts with reasons, and the deciding sentences quoted verbatim.

API: `verify_claim(ws, claim, exclude=…, sources=…, k=…) -> Verdict`, `split_claims(text)`,
`segment_article(text)` (every sentence, checked or skipped with the reason), `verify_article(ws, text, …) ->
ArticleReport`, and `assess(claim, units, stats)` for any
candidate sentences (the benchmarks use it on WiCE pages). A claim is checked in three steps:

1. Candidates. The passages hybrid retrieval ranks first, plus the best lexical matches of the
   claim, of its rarest words, and of each name it contains together with its years (an entity
   such as "Discord" sits in a table row that the dense ranking rarely puts first). Their
   sentences become *units*: verbatim spans that can be quoted. A multi-line table block becomes
   one unit per row; a statement pysbd cut in pieces ("Nothing in subsections (a) or" | "(b)
   requires …", a list and its lead-in) is joined again; a closed list ("One of:" Login, Upload …)
   is joined to the sentence that names what it lists.
2. Relevance. Each unit gets the cosine of its sentence to the claim (stored sentence vectors;
   table rows and joined statements that hold a rarer claim word are embedded on their own) plus
   the IDF-weighted share of the claim's content words it contains (words found only in its
   source's title, publisher, edition, section or table header count half).
3. Comparison. `claimcheck.compare` reads the best units against the claim, each prefixed with
   that context, so that a table figure knows its column's year and a list row its document's.
   A conflict (number, year, duration, negation, frequency, a value outside a closed list) in an
   on-topic unit makes the claim `contradicted`, unless an on-topic unit matches that very figure
   in the claim's year. The claim is `supported` when consistent on-topic units of one document
   match every figure it gives (in its year), contain every name it uses and enough of its
   words; otherwise it is `not_found`, the reason says what is missing (a year, a name, a
   figure, or the words no passage has), and the evidence shows the nearest units.

Thresholds were fitted on the 30 dev claims (eval/claims.jsonl); see docs/benchmarks-verify.md.
"""

import sys
import types

from ..models import Verdict
from .article import ArticleReport, split_claims, verify_article
from .assess import (
    CONTRADICTED,
    NOT_FOUND,
    SUPPORTED,
    VERDICTS,
    Assessment,
    Claim,
    Scored,
    VerifyConfig,
    assess,
    clean_claim,
)
from .check import verify_claim, verify_claim_detailed
from .collect import collect_units, embed_lines
from .segment import ArticleClaim, ArticleSentence, segment_article
from .terms import TermStats, index_stats, term_forms, terms

__all__ = [
    "ArticleClaim",
    "ArticleReport",
    "ArticleSentence",
    "Assessment",
    "CONTRADICTED",
    "Claim",
    "NOT_FOUND",
    "SUPPORTED",
    "Scored",
    "TermStats",
    "VERDICTS",
    "VerifyConfig",
    "assess",
    "clean_claim",
    "collect_units",
    "embed_lines",
    "index_stats",
    "segment_article",
    "split_claims",
    "term_forms",
    "terms",
    "verify_article",
    "verify_claim",
    "verify_claim_detailed",
]


class _VerifyPackage(types.ModuleType):
    """This package is also the public API's `verify` (`from ncmec_qa import verify`): calling it checks a claim.
    Being the package itself (not a function of that name beside it) keeps `import ncmec_qa.verify.check` and
    `from ncmec_qa.verify import …` working however `ncmec_qa.verify` was first reached."""

    def __call__(self, ws, claim: str, **kw) -> Verdict:
        """`verify(ws, claim, exclude=…, sources=…, k=…)`: one claim checked against the workspace's corpus, as
        `ncmec-qa verify CLAIM` does (`verify_claim`): supported, contradicted or not_found, with the reason and
        the deciding sentences quoted verbatim."""
        return verify_claim(ws, claim, **kw)


sys.modules[__name__].__class__ = _VerifyPackage
