"""Dedupe one CSV file, or link two, with the hub's matching engine.

    manage.py dedupe_csv --config match.json --input a.csv [--link b.csv] --output clusters.csv [--pairs pairs.csv]

See README ("Deduplicating any CSV") for the configuration and output formats.
"""

import csv
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError

from canonical.matching.engine import run
from canonical.matching.spec import ConfigError, MatchSpec, parse_spec

csv.field_size_limit(sys.maxsize)


def read_columns(path: Path, spec: MatchSpec, *, label: str) -> dict[str, list[str]]:
    """The configured columns of a CSV file (others are not kept). Empty cells are missing values."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CommandError(f"{label} {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise CommandError(f"{label} {path}: the file is empty (no header row)") from None
        header = [h.strip() for h in header]
        try:
            spec.check_columns(header, where=f"{label} {path}")
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        wanted = sorted(spec.required_columns())
        positions = [header.index(name) for name in wanted]
        columns: dict[str, list[str]] = {name: [] for name in wanted}
        appenders = [columns[name].append for name in wanted]
        try:
            for row in reader:
                if not row:
                    continue
                width = len(row)
                for pos, append in zip(positions, appenders, strict=True):
                    append(row[pos].strip() if pos < width else "")
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CommandError(f"{label} {path}: unreadable at line {reader.line_num}: {exc}") from exc
    seen: set[str] = set()
    for line, record_id in enumerate(columns[spec.id_field], start=2):
        if not record_id:
            raise CommandError(f"{label} {path}: line {line} has an empty id in column {spec.id_field!r}")
        if record_id in seen:
            raise CommandError(f"{label} {path}: id {record_id!r} appears more than once (again at line {line})")
        seen.add(record_id)
    return columns


class Command(BaseCommand):
    help = "Dedupe one CSV file (or link two) with the hub's matching engine; writes clusters and scored pairs."

    def add_arguments(self, parser):
        parser.add_argument("--config", required=True, type=Path, help="Match configuration (JSON).")
        parser.add_argument("--input", required=True, type=Path, help="The CSV file to dedupe.")
        parser.add_argument("--link", type=Path, help="A second CSV file to link with the first.")
        parser.add_argument("--output", required=True, type=Path, help="Where to write the clusters CSV.")
        parser.add_argument("--pairs", type=Path, help="Where to write every pair scored above review threshold.")

    def handle(self, *args, **options):
        spec = self._spec(options["config"])
        started = time.perf_counter()
        left = read_columns(options["input"], spec, label="input")
        columns, source = left, None
        if options["link"]:
            right = read_columns(options["link"], spec, label="link")
            columns = {k: left[k] + right[k] for k in left}
            source = np.r_[np.zeros(len(left[spec.id_field]), np.int8), np.ones(len(right[spec.id_field]), np.int8)]
        result = run(spec, columns, source=source)
        ids = columns[spec.id_field]
        self._write_clusters(options["output"], ids, result.cluster, source)
        if options["pairs"]:
            self._write_pairs(options["pairs"], ids, result, source)
        stats = result.stats
        self.stderr.write(
            f"{len(ids)} records, {stats['candidate_pairs']} candidate pairs, {stats['matched_pairs']} matched, "
            f"{len(set(result.cluster.tolist()))} clusters; thresholds match {result.thresholds.match:.3f} "
            f"review {result.thresholds.review:.3f}; {time.perf_counter() - started:.1f} s"
        )

    def _spec(self, path: Path) -> MatchSpec:
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise CommandError(f"config {path}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise CommandError(f"config {path}: not valid JSON ({exc})") from exc
        try:
            return parse_spec(data)
        except ConfigError as exc:
            raise CommandError(f"config {path}: {exc}") from exc

    @staticmethod
    def _labels(ids: Sequence[str], source: np.ndarray | None) -> list[str]:
        if source is None:
            return list(ids)
        return [f"{'link' if s else 'input'}:{i}" for i, s in zip(ids, source.tolist(), strict=True)]

    def _write_clusters(self, path: Path, ids: Sequence[str], cluster: np.ndarray, source: np.ndarray | None) -> None:
        # A cluster is named after its first member in input order: stable for the same input.
        labels = self._labels(ids, source)
        first: dict[int, str] = {}
        for label, c in zip(labels, cluster.tolist(), strict=True):
            first.setdefault(c, label)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            if source is None:
                writer.writerow(["id", "cluster_id"])
                writer.writerows((i, first[c]) for i, c in zip(ids, cluster.tolist(), strict=True))
            else:
                writer.writerow(["source", "id", "cluster_id"])
                writer.writerows(
                    ("link" if s else "input", i, first[c])
                    for i, s, c in zip(ids, source.tolist(), cluster.tolist(), strict=True)
                )

    def _write_pairs(self, path: Path, ids: Sequence[str], result, source: np.ndarray | None) -> None:
        order = np.argsort(-result.probability, kind="stable")
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            if source is None:
                writer.writerow(["id_l", "id_r", "score"])
                for k in order:
                    writer.writerow([ids[result.left[k]], ids[result.right[k]], f"{result.probability[k]:.4f}"])
            else:
                writer.writerow(["source_l", "id_l", "source_r", "id_r", "score"])
                name = ("input", "link")
                for k in order:
                    lft, rgt = result.left[k], result.right[k]
                    writer.writerow([name[source[lft]], ids[lft], name[source[rgt]], ids[rgt],
                                     f"{result.probability[k]:.4f}"])
