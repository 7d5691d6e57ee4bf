"""Batch record-deduplication benchmark: Concord's engine against Splink, on the same generated data, same run.

    .venv/bin/python bench/match.py                                   # 10k, 100k and 1M records, both engines
    .venv/bin/python bench/match.py --records 10000 --records 100000 --engines concord,splink [--keep /tmp/m]
    .venv/bin/python bench/match.py --records 10000 --engines splink   # Splink only

For each size, bench/datagen.py writes company records with known truth (input.csv without the truth,
truth.csv with it); each engine then runs as a subprocess from the repository root:

    concord: python manage.py dedupe_csv --config bench/match_config.json --input input.csv --output clusters.csv
    splink:  python bench/splink_runner.py --input input.csv --output clusters.csv

Both write ``id,cluster_id``. Reported per engine and size: pairwise precision, recall and F1 against the truth
(pairs of records in one predicted cluster vs. pairs of records of one true entity, counted from the
contingency table with sums of C(n, 2), never by listing pairs), wall seconds, records per second and the
subprocess's peak resident memory (ru_maxrss from os.wait4). Rows go to bench/results/match.json, replacing
earlier rows of the same engine and size; a failing engine gets a row with an "error" key.

This benchmark measures batch deduplication only. The online-match figure (p95 latency of matching one record
against 1M golden records in Postgres) is measured by a separate benchmark of the hub.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results" / "match.json"
CONFIG = BENCH / "match_config.json"
DEFAULT_SIZES = [10_000, 100_000, 1_000_000]
ENGINES = ("concord", "splink")

sys.path.insert(0, str(BENCH))
import datagen  # noqa: E402  (bench/datagen.py; no Django anywhere in this process)


def concord_command(input_csv: Path, output_csv: Path, workdir: Path) -> list[str]:
    return [sys.executable, "manage.py", "dedupe_csv", "--config", str(CONFIG), "--input", str(input_csv),
            "--output", str(output_csv)]


def splink_command(input_csv: Path, output_csv: Path, workdir: Path) -> list[str]:
    return [sys.executable, str(BENCH / "splink_runner.py"), "--input", str(input_csv), "--output", str(output_csv),
            "--stats", str(workdir / "splink_stats.json")]


COMMANDS: dict[str, Callable[[Path, Path, Path], list[str]]] = {"concord": concord_command, "splink": splink_command}


@dataclass
class Measured:
    returncode: int
    seconds: float
    peak_rss_mb: float
    timed_out: bool


def run_measured(cmd: list[str], log_path: Path, timeout: float | None) -> Measured:
    """Run cmd from the repository root; wall time and the child's peak RSS (Linux ru_maxrss is in KiB)."""
    timed_out = threading.Event()
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)

        def kill() -> None:
            timed_out.set()
            proc.kill()

        killer = threading.Timer(timeout, kill) if timeout else None
        if killer:
            killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here; keeps Popen from waiting again
        if killer:
            killer.cancel()
    return Measured(proc.returncode, seconds, usage.ru_maxrss / 1024, timed_out.is_set())


def read_mapping(path: Path, key: str, value: str) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as f:
        return {row[key]: row[value] for row in csv.DictReader(f)}


def pairs(counts: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def pairwise_scores(truth: dict[str, str], predicted: dict[str, str]) -> dict[str, Any]:
    """Pairwise precision/recall/F1 from cluster sizes; ids the engine left out count as singletons."""
    missing = 0
    cells: Counter[tuple[str, str]] = Counter()
    clusters: Counter[str] = Counter()
    for rec_id, entity in truth.items():
        cluster = predicted.get(rec_id)
        if cluster is None:
            missing += 1
            cluster = f"\0missing:{rec_id}"
        cells[(cluster, entity)] += 1
        clusters[cluster] += 1
    tp, predicted_pairs, true_pairs = pairs(cells), pairs(clusters), pairs(Counter(truth.values()))
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "true_pairs": true_pairs, "predicted_pairs": predicted_pairs, "true_positive_pairs": tp,
            "clusters": len(clusters), "missing_ids": missing,
            "unknown_ids": sum(1 for rec_id in predicted if rec_id not in truth)}


def log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def bench_engine(engine: str, records: int, data_dir: Path, workdir: Path, truth: dict[str, str],
                 timeout: float | None) -> dict[str, Any]:
    output = workdir / f"{engine}_clusters.csv"
    log_path = workdir / f"{engine}.log"
    row: dict[str, Any] = {"engine": engine, "records": records}
    measured = run_measured(COMMANDS[engine](data_dir / "input.csv", output, workdir), log_path, timeout)
    row.update(seconds=round(measured.seconds, 2), peak_rss_mb=round(measured.peak_rss_mb, 1),
               records_per_s=round(records / measured.seconds, 1) if measured.seconds else None)
    if measured.returncode != 0 or not output.exists():
        reason = "timed out" if measured.timed_out else f"exit code {measured.returncode}"
        row["error"] = f"{engine} failed ({reason}): {log_tail(log_path)}"
        return row
    try:
        row.update(pairwise_scores(truth, read_mapping(output, "id", "cluster_id")))
    except (KeyError, csv.Error, UnicodeDecodeError) as exc:
        row["error"] = f"unreadable {output.name} (expected header id,cluster_id): {exc!r}"
        return row
    if row["missing_ids"] or row["unknown_ids"]:
        print(f"  warning: {engine} left out {row['missing_ids']} input ids (scored as singletons) and wrote "
              f"{row['unknown_ids']} ids that are not in the input", flush=True)
    if engine == "splink" and (workdir / "splink_stats.json").exists():
        row["engine_stats"] = json.loads((workdir / "splink_stats.json").read_text())
    return row


def merge_results(rows: list[dict[str, Any]], path: Path = RESULTS) -> None:
    existing: list[dict[str, Any]] = []
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except json.JSONDecodeError:
            existing = []
    fresh = {(r["engine"], r["records"]) for r in rows}
    merged = [r for r in existing if (r.get("engine"), r.get("records")) not in fresh] + rows
    merged.sort(key=lambda r: (r.get("records", 0), r.get("engine", "")))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2) + "\n")


def print_table(rows: list[dict[str, Any]]) -> None:
    head = f"{'engine':<8} {'records':>9} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>9} {'rec/s':>9} " \
           f"{'peak MB':>8}"
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            first_line = r["error"].splitlines()[0][:80]
            print(f"{r['engine']:<8} {r['records']:>9} ERROR after {r.get('seconds', 0)}s: {first_line}")
            continue
        print(f"{r['engine']:<8} {r['records']:>9} {r['precision']:>9.4f} {r['recall']:>7.4f} {r['f1']:>7.4f} "
              f"{r['seconds']:>9.1f} {r['records_per_s']:>9.0f} {r['peak_rss_mb']:>8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, action="append", help="dataset size (repeatable); default 10k, 100k, 1M")
    parser.add_argument("--engines", default="concord,splink", help="comma-separated: concord, splink")
    parser.add_argument("--keep", type=Path, help="keep data, clusters and engine logs under this directory")
    parser.add_argument("--seed", type=int, default=7, help="data generator seed")
    parser.add_argument("--timeout", type=float, help="seconds before an engine run is killed")
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON file the rows are merged into")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    all_rows: list[dict[str, Any]] = []
    for records in args.records or DEFAULT_SIZES:
        workdir = (args.keep / f"n{records}") if args.keep else Path(tempfile.mkdtemp(prefix=f"match{records}-"))
        data_dir = workdir / "data"
        try:
            started = time.perf_counter()
            data = datagen.generate(records, str(data_dir), args.seed)
            print(f"\n{records:,} records: {data['entities']:,} entities, {data['true_pairs']:,} true pairs, "
                  f"{data['near_miss_groups']:,} parent/subsidiary groups "
                  f"(generated in {time.perf_counter() - started:.1f}s)", flush=True)
            truth = read_mapping(data_dir / "truth.csv", "rec_id", "entity_id")
            rows = []
            for engine in engines:
                print(f"  running {engine}...", flush=True)
                row = bench_engine(engine, records, data_dir, workdir, truth, args.timeout)
                row.update(data=data, seed=args.seed, machine=machine,
                           measured_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
                rows.append(row)
                print_table([row])
            merge_results(rows, args.results)
            all_rows += rows
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
    print()
    print_table(all_rows)
    print(f"\nrows merged into {args.results}")


if __name__ == "__main__":
    main()
