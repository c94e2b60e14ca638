"""``journey generate``: a synthetic, realistic and messy landing zone in the shapes of CONTRACT §1.

Customers in seven markets sign up, browse, abandon carts, buy (and return),
call a call centre with opening hours and a queue, open tickets, answer
surveys and write reviews, in their own languages and scripts. Identity links
hold the way the contract stitches them (order ids, contact ids, anonymous
ids, e-mails differing in case, phone numbers in different formats). Late
events, re-sends and malformed lines appear at the configured rates.

    from dagster_project.generator import GeneratorOptions, generate_landing_zone
    summary = generate_landing_zone(GeneratorOptions(out=Path("data/landing"), customers=2000, days=60))
    print(summary)

Module map: ``options`` (what to do, validation, the summary), ``writer``
(chunks, processes, files), ``simulate`` (a chunk's customer stories, built
from ``model``, ``commerce``, ``sessions``, ``support`` and ``feedback``),
``sink`` (bucketing and messiness), ``messiness`` (malformed kinds),
``catalog`` (products, agents, lines), ``people`` (names, phones, e-mails,
texts), ``clock`` (time), ``entities`` (the nine landing folders), ``settings``
(every behavioural number, with where it comes from).
"""

from __future__ import annotations

from dagster_project.generator.options import GenerationSummary, GeneratorOptions, validate_options
from dagster_project.generator.writer import generate_landing_zone, run_generation

__all__ = ["GenerationSummary", "GeneratorOptions", "generate_landing_zone", "run_generation", "validate_options"]
