"""``manage.py dedupe_csv`` on small files with known truth, link mode, pairs, and bad input."""

import csv
import json
import random

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

CONFIG = {
    "id": "rec_id",
    "fields": [
        {"name": "company", "type": "company_name"},
        {"name": "website", "type": "domain"},
        {"name": "vat", "type": "tax_id", "country_field": "country"},
        {"name": "country", "type": "exact"},
        {"name": "zip", "type": "postcode", "country_field": "country"},
        {"name": "founded", "type": "date"},
    ],
    "thresholds": "auto",
}
HEADER = ["rec_id", "company", "website", "vat", "country", "zip", "founded"]
WORDS = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Proseware", "Adatum", "Wingtip", "Coho",
         "Lucerne", "Margie", "Trey", "Humongous", "Alpine", "Blue", "Yonder", "Wide", "World", "Graphic",
         "Fourth", "Coffee", "Relecloud", "Woodgrove", "Southridge", "Datum", "Bellows", "Cronus", "Vanarsdel"]
SECTORS = ["Analytics", "Partners", "Consulting", "Logistics", "Foods", "Engineering", "Media", "Capital"]
GB_VATS = ["GB980780684", "GB434031494", "GB927285372", "GB220430231", "GB756434262"]


def write(path, rows, header=HEADER):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def read(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def run(tmp_path, config=CONFIG, **files):
    (tmp_path / "match.json").write_text(json.dumps(config))
    args = ["dedupe_csv", "--config", str(tmp_path / "match.json"), "--output", str(tmp_path / "clusters.csv")]
    for option, path in files.items():
        args += [f"--{option}", str(path)]
    call_command(*args)
    return read(tmp_path / "clusters.csv")


def _variant(name: str, rng: random.Random) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return name.replace(" Limited", " Ltd.")
    if choice == 1:
        return name.upper().replace(" LIMITED", "")
    if choice == 2 and len(name) > 8:
        i = rng.randrange(2, 6)
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]  # transposed letters
    return name


def generated(rng: random.Random, entities: int):
    rows, truth = [], {}
    names = rng.sample([f"{a} {b} {s}" for a in WORDS for b in WORDS if a != b for s in SECTORS], entities)
    for e, base in enumerate(names):
        name = f"{base} Limited"
        domain = base.replace(" ", "").lower() + ".co.uk"
        zipcode = f"{rng.choice(['LS', 'M', 'EC', 'BS'])}{rng.randrange(1, 20)} {rng.randrange(1, 9)}AB"
        founded = f"{rng.randrange(1950, 2020)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}"
        for copy in range(rng.choice([1, 1, 2, 2, 3])):
            rec = f"r{len(rows)}"
            truth[rec] = e
            rows.append([
                rec, _variant(name, rng) if copy else name,
                "" if rng.random() < 0.3 else f"https://www.{domain}/" if copy else domain,
                "", "GB", "" if rng.random() < 0.2 else zipcode.lower() if copy else zipcode,
                "" if rng.random() < 0.3 else founded,
            ])
    return rows, truth


def f1(clusters, truth):
    pred = {r["id"]: r["cluster_id"] for r in clusters}
    ids = sorted(truth)
    tp = fp = fn = 0
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            same_pred, same_true = pred[a] == pred[b], truth[a] == truth[b]
            tp += same_pred and same_true
            fp += same_pred and not same_true
            fn += same_true and not same_pred
    return 2 * tp / (2 * tp + fp + fn)


def test_dedupe_recovers_known_duplicates(tmp_path):
    rows, truth = generated(random.Random(11), 250)
    write(tmp_path / "a.csv", rows)

    clusters = run(tmp_path, input=tmp_path / "a.csv")

    assert [r["id"] for r in clusters] == [row[0] for row in rows]  # every row, in input order
    assert f1(clusters, truth) >= 0.95


def test_exact_clusters_on_a_hand_made_file_with_fixed_thresholds(tmp_path):
    rows = [
        ["1", "Thornbury Group Limited", "thornburygroup.com", "GB980780684", "GB", "M2 3AW", "1998-04-01"],
        ["2", "THORNBURY GROUP LTD.", "https://www.thornburygroup.com", "GB 980 780 684", "GB", "m2 3aw", ""],
        ["3", "Thornbury Group Holdings plc", "thornburygroup.com", "GB434031494", "GB", "EC1A 1BB", "1970-01-01"],
        ["4", "Lucerne Publishing GmbH", "lucerne.de", "DE136695976", "DE", "10115", "2001-05-05"],
        ["5", "Lucerne Publishing", "www.lucerne.de", "DE 136 695 976", "DE", "10115", "not a date"],
    ]
    write(tmp_path / "a.csv", rows)
    config = {**CONFIG, "deterministic": [["vat"]], "thresholds": {"match": 0.9, "review": 0.3}}

    clusters = run(tmp_path, config, input=tmp_path / "a.csv", pairs=tmp_path / "pairs.csv")
    pairs = read(tmp_path / "pairs.csv")

    assert {r["id"]: r["cluster_id"] for r in clusters} == {"1": "1", "2": "1", "3": "3", "4": "4", "5": "4"}
    assert list(pairs[0]) == ["id_l", "id_r", "score"]
    assert {(p["id_l"], p["id_r"]) for p in pairs if float(p["score"]) >= 0.9} == {("1", "2"), ("4", "5")}
    assert all(0.3 <= float(p["score"]) <= 1 for p in pairs)


def test_link_two_files(tmp_path):
    rows, truth = generated(random.Random(5), 150)
    left = [r for r in rows if int(r[0][1:]) % 2 == 0]
    right = [r for r in rows if int(r[0][1:]) % 2 == 1]
    write(tmp_path / "a.csv", left)
    write(tmp_path / "b.csv", right)

    clusters = run(tmp_path, input=tmp_path / "a.csv", link=tmp_path / "b.csv", pairs=tmp_path / "pairs.csv")
    pairs = read(tmp_path / "pairs.csv")

    assert list(clusters[0]) == ["source", "id", "cluster_id"]
    expected_rows = [("input", r[0]) for r in left] + [("link", r[0]) for r in right]
    assert [(r["source"], r["id"]) for r in clusters] == expected_rows
    assert list(pairs[0]) == ["source_l", "id_l", "source_r", "id_r", "score"]
    assert all(p["source_l"] != p["source_r"] for p in pairs)
    # Records of one file are never linked to each other: only cross-file duplicates share a cluster.
    by_cluster = {}
    for r in clusters:
        by_cluster.setdefault(r["cluster_id"], []).append(r)
    assert all(len({r["source"] for r in members}) == 2 for members in by_cluster.values() if len(members) > 1)


def test_missing_column_is_a_clear_error(tmp_path):
    write(tmp_path / "a.csv", [["1", "Acme"]], header=["rec_id", "company"])

    with pytest.raises(CommandError, match="missing column.*country.*founded"):
        run(tmp_path, input=tmp_path / "a.csv")

    assert not (tmp_path / "clusters.csv").exists()


@pytest.mark.parametrize(("config", "message"), [
    ({"fields": [{"name": "a", "type": "string"}]}, "'id' must name the column"),
    ({"id": "rec_id", "fields": []}, "'fields' must be a non-empty list"),
    ({"id": "rec_id", "fields": [{"name": "a", "type": "colour"}]}, "field 'a': unknown type 'colour'"),
    ({"id": "rec_id", "fields": [{"name": "a", "type": "string"}], "blocking": [["b"]]}, "'blocking' names 'b'"),
    ({"id": "rec_id", "fields": [{"name": "a", "type": "string"}], "thresholds": {"match": 2}}, "thresholds.match"),
    ({"id": "rec_id", "fields": [{"name": "a", "type": "string"}], "thresholds": {"match": 0.5, "review": 0.8}},
     "review must not exceed"),
])
def test_bad_config_is_a_clear_error(tmp_path, config, message):
    write(tmp_path / "a.csv", [["1", "x"]], header=["rec_id", "a"])

    with pytest.raises(CommandError, match=message):
        run(tmp_path, config, input=tmp_path / "a.csv")


def test_unparseable_config_and_missing_file(tmp_path):
    (tmp_path / "match.json").write_text("{nope")
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("dedupe_csv", "--config", str(tmp_path / "match.json"), "--input", "x.csv", "--output", "o.csv")
    (tmp_path / "match.json").write_text(json.dumps(CONFIG))
    with pytest.raises(CommandError, match="input .*missing.csv: No such file"):
        call_command("dedupe_csv", "--config", str(tmp_path / "match.json"), "--input",
                     str(tmp_path / "missing.csv"), "--output", str(tmp_path / "o.csv"))


def test_duplicate_ids_are_refused(tmp_path):
    write(tmp_path / "a.csv", [["1", "A", "", "", "GB", "", ""], ["1", "B", "", "", "GB", "", ""]])

    with pytest.raises(CommandError, match="id '1' appears more than once"):
        run(tmp_path, input=tmp_path / "a.csv")
