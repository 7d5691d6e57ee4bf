"""Deduplicate the benchmark's company CSV with Splink 5 on DuckDB, the way its documentation sets a model up.

    .venv/bin/python bench/splink_runner.py --input input.csv --output clusters.csv [--stats splink.json]

Writes ``clusters.csv`` (``id,cluster_id``, one row per input record), the shape ``manage.py dedupe_csv``
writes, and optionally a JSON of phase timings and model figures. Run by ``bench/match.py`` as a subprocess
so that its time and peak memory are measured on their own.

The steps follow Splink's README quickstart and tutorials: light cleaning in SQL, a ``SettingsCreator``
with ``link_type="dedupe_only"``, comparisons from ``splink.comparison_library``, prediction blocking
rules, ``estimate_probability_two_random_records_match`` from deterministic rules, ``estimate_u_using_
random_sampling``, two EM sessions on different blocking rules, ``predict`` and
``cluster_pairwise_predictions_at_threshold``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time

import duckdb
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, DuckDBAPI, Linker, SettingsCreator, block_on

# Legal-form words a user strips from company names before comparing them (Splink's docs ask for
# standardised inputs; Concord does the same inside its company_name type, so this keeps the comparison fair).
# Matched only at the end of the name, repeatedly, after lower-casing and removing dots and commas.
LEGAL_SUFFIXES = [
    "public limited company", "designated activity company", "private limited", "proprietary limited",
    "gmbh and co kg", "gmbh co kg", "aktiengesellschaft", "incorporated", "corporation", "limited", "ltd", "plc",
    "llp", "inc", "llc", "corp", "gmbh", "ag", "kg", "sas", "sarl", "sa", "bv", "nv", "dac", "pty", "pte",
]

# Light, per-column standardisation a user would write in SQL (lower-case, trim, strip punctuation and URL
# decoration, one representation per identifier). Empty strings become NULL so Splink treats them as missing.
CLEAN_SQL = r"""
create or replace table companies as
with raw as (select * from read_csv('{path}', header = true, all_varchar = true)),
step as (
    select *,
        regexp_replace(lower(strip_accents(coalesce(name, ''))), '[.,'']', '', 'g') as n1,
        upper(regexp_replace(coalesce(tax_id, ''), '[^A-Za-z0-9]', '', 'g')) as t1,
        regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') as p1
    from raw
)
select
    rec_id,
    upper(trim(country)) as country,
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(replace(n1, '&', ' and '), '[^a-z0-9 ]', ' ', 'g'),
        '(\s+({suffixes}))+\s*$', ''), '\s+', ' ', 'g')), '') as name_clean,
    nullif(regexp_replace(regexp_replace(lower(trim(coalesce(domain, ''))), '^(https?://)?(www\.)?', ''), '/+$', ''),
        '') as domain_clean,
    nullif(case when starts_with(t1, upper(trim(country))) then substr(t1, 3) else t1 end, '') as tax_clean,
    -- the last 8 digits identify a number whatever the prefix (+44 20..., 020..., 0044 20...)
    nullif(right(p1, 8), '') as phone_clean,
    nullif(case when upper(trim(country)) = 'US' then left(regexp_replace(postcode, '[^0-9]', '', 'g'), 5)
        else upper(regexp_replace(coalesce(postcode, ''), '[^A-Za-z0-9]', '', 'g')) end, '') as postcode_clean,
    nullif(trim(regexp_replace(lower(strip_accents(coalesce(street, ''))), '[^a-z0-9]+', ' ', 'g')), '')
        as street_clean,
    nullif(trim(lower(strip_accents(coalesce(city, '')))), '') as city_clean
from step
"""

# The same keys as bench/match_config.json gives Concord: tax id, domain, phone, postcode, name.
BLOCKING_KEYS = ["tax_clean", "domain_clean", "phone_clean", "postcode_clean", "name_clean"]


def settings() -> SettingsCreator:
    postcode = ColumnExpression("postcode_clean")
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="rec_id",
        comparisons=[
            # Term-frequency adjustments on exact matches of columns with skewed values, as the tutorials do
            # for names and cities: agreeing on a common name/city/shared group domain says less.
            cl.JaroWinklerAtThresholds("name_clean", [0.95, 0.88, 0.8]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("tax_clean"),
            cl.ExactMatch("domain_clean").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone_clean").configure(term_frequency_adjustments=True),
            # PostcodeComparison is written for UK postcodes (its sector/district regexes return '' for other
            # formats, which would then "match"), so international postcodes get exact + first-3-characters.
            cl.CustomComparison(
                output_column_name="postcode_clean",
                comparison_levels=[
                    cll.NullLevel(postcode),
                    cll.ExactMatchLevel(postcode).configure(tf_adjustment_column="postcode_clean"),
                    cll.ExactMatchLevel(postcode.substr(1, 3)),
                    cll.ElseLevel(),
                ],
            ),
            cl.LevenshteinAtThresholds("street_clean", [2, 5]),
            cl.ExactMatch("city_clean").configure(term_frequency_adjustments=True),
            # Every true duplicate shares its country, so EM drives the m of "country differs" to 0.0, which
            # Splink 5 rejects (ValueError below 1e-300); the docs' answer is to fix known m values (PR #2379).
            cl.CustomComparison(
                output_column_name="country",
                comparison_levels=[
                    cll.NullLevel("country"),
                    cll.ExactMatchLevel("country").configure(m_probability=0.999, fix_m_probability=True),
                    cll.ElseLevel().configure(m_probability=0.001, fix_m_probability=True),
                ],
            ),
        ],
        blocking_rules_to_generate_predictions=[block_on(key) for key in BLOCKING_KEYS],
        retain_intermediate_calculation_columns=False,
    )


def _count(con: duckdb.DuckDBPyConnection, table: str, what: str) -> int:
    return int(con.execute(f"select count({what}) from {table}").fetchall()[0][0])  # noqa: S608


def run(input_csv: str, output_csv: str, *, max_pairs: float, recall: float, threshold: float,
        seed: int = 42, log_level: int = logging.INFO) -> dict[str, object]:
    phases: dict[str, float] = {}
    started = last = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        phases[name] = round(now - last, 2)
        last = now

    con = duckdb.connect()
    suffixes = "|".join(s.replace(" ", r"\s+") for s in LEGAL_SUFFIXES)
    con.execute(CLEAN_SQL.replace("{path}", input_csv.replace("'", "''")).replace("{suffixes}", suffixes))
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("companies")
    linker = Linker(records, settings(), log_level=log_level)
    lap("load_and_clean")

    # Deterministic rules that admit (almost) no false positives; recall 0.7 as in the README quickstart.
    linker.training.estimate_probability_two_random_records_match(
        [block_on("tax_clean"), block_on("name_clean", "postcode_clean")], recall=recall)
    # The docs: 1e7 pairs "often adequate", 1e8-1e9 "best results"; the default here is 1e8.
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    # Two EM sessions on different keys so that every comparison gets its m probabilities estimated. Not on
    # postcode: in business districts a postcode block is mostly distinct companies, and postcode, city and
    # country are correlated (the README's caveat), so EM there drifts to "same place = same company"
    # (m of name "else" ~0.4, visible in m_u_parameters_chart). Name and tax id blocks are mostly matches.
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("name_clean"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("tax_clean"))
    lap("train")

    predictions = linker.inference.predict(threshold_match_probability=0.5)
    n_pairs = _count(con, predictions.physical_name, "*")
    lap("predict")

    # 0.95 is the clustering threshold of Splink's README quickstart and of its tutorials' examples.
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    out = output_csv.replace("'", "''")
    con.execute(f"copy (select rec_id as id, cluster_id from {clusters.physical_name} order by rec_id) "  # noqa: S608
                f"to '{out}' (header, delimiter ',')")
    n_clusters = _count(con, clusters.physical_name, "distinct cluster_id")
    lap("cluster_and_write")
    return {
        "phases_s": phases, "seconds": round(time.perf_counter() - started, 2),
        "pairs_above_0_5": n_pairs, "clusters": n_clusters,
        "probability_two_random_records_match": linker._settings_obj._probability_two_random_records_match,
        "u_max_pairs": max_pairs, "cluster_threshold": threshold,
        "duckdb_threads": con.execute("select current_setting('threads')").fetchall()[0][0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--stats", help="write phase timings and model figures to this JSON file")
    parser.add_argument("--max-pairs", type=float, default=1e8, help="pairs sampled to estimate u")
    parser.add_argument("--recall", type=float, default=0.7, help="assumed recall of the deterministic rules")
    parser.add_argument("--threshold", type=float, default=0.95, help="cluster at this match probability")
    parser.add_argument("--quiet", action="store_true", help="only warnings from Splink")
    args = parser.parse_args()
    logging.basicConfig(format="%(message)s")
    stats = run(os.path.abspath(args.input), os.path.abspath(args.output), max_pairs=args.max_pairs,
                recall=args.recall, threshold=args.threshold, log_level=logging.WARNING if args.quiet else logging.INFO)
    if args.stats:
        with open(args.stats, "w", encoding="utf-8") as f:
            json.dump(stats, f, indent=2)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
