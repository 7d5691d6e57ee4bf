"""Online matching benchmark: one arriving client record against N golden records in PostgreSQL.

    .venv/bin/python bench/online_match.py [--records 1000000] [--queries 1000]

Loads N generated client records (bench/datagen.py: realistic duplicates with known truth) into a
separate embedded PostgreSQL under .concord/bench-online/, one golden record per true entity, with their
source records and normalised match views (bulk COPY, as an initial load would), holds some records back,
then matches each held-back record the way the hub does on arrival: normalise, fetch candidates through
the blocking indexes (GIN on block keys, trigram on the name), score them with the engine, decide.
Prints p50/p95/p99 latency and the share of decisions that found the right golden record, and writes
bench/results/online_match.json. A second run with the same --records reuses the loaded database.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CONCORD_DATA_DIR", str(ROOT / ".concord" / "bench-online"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench import datagen  # noqa: E402
from canonical.matching import normalise  # noqa: E402
from canonical.matching.blocking import name_keys  # noqa: E402
from canonical.matching.engine import normalise_values  # noqa: E402
from canonical.models import Client, ConnectedSystem, MatchRecord  # noqa: E402
from canonical.services.matching import (  # noqa: E402
    block_keys,
    candidate_queryset,
    match_preview,
    matcher_for,
)
from canonical.services.rematch import match_weights_train  # noqa: E402

COLUMNS = {"name": "legal_name", "domain": "website_domain", "tax_id": "tax_id", "country": "country",
           "postcode": "billing_postcode", "street": "billing_street"}


def _read(directory: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    with (directory / "input.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (directory / "truth.csv").open(newline="") as handle:
        truth = {r["rec_id"]: r["entity_id"] for r in csv.DictReader(handle)}
    return rows, truth


def _attributes(row: dict[str, str]) -> dict[str, str]:
    return {attr: row[col] for col, attr in COLUMNS.items() if row.get(col)}


def _normalised(matcher, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    raw = {f.name: [next((r[c] for c, a in COLUMNS.items() if a in matcher.sources[f.name] and r.get(c)), "")
                    for r in rows] for f in matcher.spec.fields}
    countries = [normalise.country(r.get("country", "")) for r in rows]
    values = {f.name: normalise_values(f.type, raw[f.name], countries if f.country_field else None)
              for f in matcher.spec.fields}
    return [{name: values[name][i] for name in values} for i in range(len(rows))]


def _copy(table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    buffer.seek(0)
    with connection.cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"  # noqa: S608
    ) as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def load(records: int, held_back: int) -> tuple[list[dict[str, str]], dict[str, str], dict[str, str]]:
    """Load ``records`` minus ``held_back`` records; return the held-back rows, truth and entity->golden."""
    work = Path(tempfile.mkdtemp(prefix="online-bench-"))
    datagen.generate(records, str(work), seed=11)
    rows, truth = _read(work)
    loaded, queries = rows[held_back:], rows[:held_back]
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    matcher = matcher_for("client")
    system = ConnectedSystem.objects.create(key="bench", kind="salesforce", name="Bench CRM")
    golden_of: dict[str, str] = {}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    started = time.perf_counter()
    values = _normalised(matcher, loaded)
    client_rows, source_rows, match_rows = [], [], []
    for row, vals in zip(loaded, values, strict=True):
        entity = truth[row["rec_id"]]
        if entity not in golden_of:
            golden_of[entity] = str(uuid.uuid4())
            client_rows.append((golden_of[entity], row["name"][:255], "", "", "", row["country"][:2], "", "", "",
                                "", "", "", "", "active", 1, "{}", "{}", now, now))
        source_id = str(uuid.uuid4())
        attributes = json.dumps(_attributes(row))
        source_rows.append((source_id, system.pk, "Account", row["rec_id"], "client", golden_of[entity], attributes,
                            "{}", hashlib.sha256(attributes.encode()).hexdigest(), False, now, now))
        name = vals.get("name", "")[:300]
        match_rows.append((source_id, "client", golden_of[entity], json.dumps(vals),
                           _array(block_keys(matcher.spec, vals)), name, _array(name_keys(name)), True))
    _copy("canonical_client", ["id", "legal_name", "display_name", "website_domain", "tax_id", "country",
                               "billing_street", "billing_city", "billing_region", "billing_postcode",
                               "billing_country", "industry", "currency", "status", "version", "lineage",
                               "overrides", "created_at", "updated_at"], client_rows)
    _copy("canonical_sourcerecord", ["id", "system_id", "object_type", "external_id", "entity_type",
                                     "golden_record_id", "attributes", "payload", "payload_hash", "is_deleted",
                                     "first_seen_at", "last_changed_at"], source_rows)
    # The match keys follow through the views' trigger.
    _copy("canonical_matchrecord", ["source_record_id", "entity_type", "golden_record_id", "values", "block_keys",
                                    "name_key", "name_keys", "is_active"], match_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"loaded {len(loaded)} source records, {len(client_rows)} golden records "
          f"in {time.perf_counter() - started:.0f} s")
    # Learn the weights from the loaded records, as `manage.py rematch client --train` would.
    del client_rows, source_rows, match_rows, values
    started = time.perf_counter()
    match_weights_train(entity_type="client")
    print(f"trained the client weights by EM in {time.perf_counter() - started:.0f} s")
    (work / "queries.json").write_text(json.dumps({"queries": queries, "truth": truth, "golden_of": golden_of}))
    state = ROOT / ".concord" / "bench-online" / f"queries-{records}.json"
    state.write_text((work / "queries.json").read_text())
    return queries, truth, golden_of


def _array(keys: list[str]) -> str:
    """A text[] literal for COPY."""
    return "{" + ",".join('"' + k.replace('"', "") + '"' for k in keys) + "}"


def measure(queries, truth, golden_of) -> dict[str, object]:
    matcher = matcher_for("client")
    latencies, correct, decided = [], 0, 0
    outcomes: dict[str, int] = {}
    for row in queries:
        started = time.perf_counter()
        preview = match_preview(entity_type="client", values=_normalised(matcher, [row])[0])
        latencies.append(time.perf_counter() - started)
        outcome, ranked = preview.outcome, preview.ranked
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        expected = golden_of.get(truth[row["rec_id"]])
        attached = outcome in ("auto_match", "deterministic")
        decided += 1
        correct += (attached and str(ranked[0].golden_record_id) == expected) or (not attached and expected is None)
    ms = np.array(latencies) * 1000
    return {"queries": len(queries), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "max_ms": round(float(ms.max()), 2), "right_decisions": round(correct / max(decided, 1), 4),
            "outcomes": outcomes}


def _plan(row: dict[str, str]) -> list[str]:
    """The query plan of one candidate lookup: index scans, not a table scan."""
    matcher = matcher_for("client")
    values = _normalised(matcher, [row])[0]
    name = values.get("name", "")
    view = MatchRecord(entity_type="client", values=values, block_keys=block_keys(matcher.spec, values),
                       name_key=name, name_keys=name_keys(name))
    return candidate_queryset(matcher, view).explain().splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--train", action="store_true", help="(re)learn the weights on an already loaded database")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    state = ROOT / ".concord" / "bench-online" / f"queries-{args.records}.json"
    if state.exists() and Client.objects.exists():
        saved = json.loads(state.read_text())
        queries, truth, golden_of = saved["queries"][: args.queries], saved["truth"], saved["golden_of"]
        if args.train:
            match_weights_train(entity_type="client")
    else:
        queries, truth, golden_of = load(args.records, args.queries)
    golden_count = Client.objects.count()
    measure(queries[:50], truth, golden_of)  # warm the connection and caches
    result = {"records": args.records, "golden_records": golden_count, **measure(queries, truth, golden_of),
              "candidate_plan": _plan(queries[0])}
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "online_match.json"
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
