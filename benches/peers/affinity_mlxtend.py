#!/usr/bin/env python3
"""Peer check for issue 22, item 1: the association rules of `crmlens affinity` against
mlxtend's `apriori` + `association_rules` on the same dataset, side by side.

    python3 -m venv /tmp/mlx && /tmp/mlx/bin/pip install mlxtend pandas pyarrow
    /tmp/mlx/bin/python benches/peers/affinity_mlxtend.py DATASET [CRMLENS_BINARY] \
        [--min-support S] [--as-of YYYY-MM-DD] [--only basket/category,...]
    /tmp/mlx/bin/python benches/peers/affinity_mlxtend.py --expected DATASET OUT.csv \
        --min-support S --as-of YYYY-MM-DD

The first form runs both on every unit (basket, customer) and level (category, product) and
prints, per combination, the rules each found, the rules only one of them found and the
largest absolute difference of support, confidence, lift, leverage and conviction; it exits 1
when the rule sets differ or a difference exceeds 1e-9. The second writes mlxtend's rules as
the CSV that tests/it/cli_affinity.rs compares crmlens with (tests/data/affinity_mlxtend.csv,
from the fixture tests/slt/data/affinity/, whose tables may be CSV files).

Transactions are built as crmlens documents them (src/views/affinity.rs): the orders with
status `paid` dated on or before as_of (UTC calendar dates; default: the latest order date);
a basket is one order, a customer's items are all they bought; items are products.category
(lines whose product has no category are left out) or order_items.product_id; a transaction
without an item does not count. mlxtend sees those transactions one-hot encoded
(TransactionEncoder), `apriori(min_support, max_len=2)` and `association_rules(metric=
"support", min_threshold=min_support)`: every rule of a frequent pair.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import pandas as pd
import pyarrow.parquet as pq
from mlxtend.frequent_patterns import apriori, association_rules
from mlxtend.preprocessing import TransactionEncoder

MEASURES = ["antecedent_support", "consequent_support", "support", "confidence", "lift",
            "leverage", "conviction"]
COMBINATIONS = [("basket", "category"), ("basket", "product"), ("customer", "category"),
                ("customer", "product")]


def table(dataset, name, columns):
    """A table of the dataset: NAME.parquet, a folder NAME/ of Parquet files, or NAME.csv."""
    path = os.path.join(dataset, name)
    if os.path.exists(path + ".parquet") or os.path.isdir(path):
        source = path + ".parquet" if os.path.exists(path + ".parquet") else path
        return pq.read_table(source, columns=columns).to_pandas()
    return pd.read_csv(path + ".csv", usecols=columns, dtype=str)


def transactions(dataset, unit, level, as_of):
    orders = table(dataset, "orders", ["order_id", "customer_id", "ordered_at", "status"])
    orders["date"] = pd.to_datetime(orders["ordered_at"], utc=True).dt.date
    if as_of is None:
        as_of = orders["date"].max()
    orders = orders[(orders["status"] == "paid") & (orders["date"] <= as_of)]
    items = table(dataset, "order_items", ["order_id", "product_id"]).dropna()
    lines = items.merge(orders[["order_id", "customer_id"]], on="order_id")
    if level == "category":
        products = table(dataset, "products", ["product_id", "category"]).dropna()
        lines = lines.merge(products, on="product_id")
        item = "category"
    else:
        item = "product_id"
    key = "order_id" if unit == "basket" else "customer_id"
    return [sorted(set(group)) for _, group in lines.groupby(key)[item]]


def mlxtend_rules(dataset, unit, level, min_support, as_of):
    baskets = transactions(dataset, unit, level, as_of)
    encoder = TransactionEncoder()
    onehot = pd.DataFrame(encoder.fit(baskets).transform(baskets), columns=encoder.columns_)
    frequent = apriori(onehot, min_support=min_support, use_colnames=True, max_len=2)
    columns = ["antecedent", "consequent"] + MEASURES
    if frequent.empty or (frequent["itemsets"].map(len) < 2).all():
        return pd.DataFrame(columns=columns)
    rules = association_rules(frequent, num_itemsets=len(onehot), metric="support",
                              min_threshold=min_support)
    rules["antecedent"] = rules["antecedents"].map(lambda s: next(iter(s)))
    rules["consequent"] = rules["consequents"].map(lambda s: next(iter(s)))
    rules = rules.rename(columns={"antecedent support": "antecedent_support",
                                  "consequent support": "consequent_support"})
    rules["conviction"] = rules["conviction"].map(lambda v: None if math.isinf(v) else v)
    return rules[columns].sort_values(["antecedent", "consequent"]).reset_index(drop=True)


def crmlens_rules(binary, dataset, unit, level, min_support, as_of):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "rules.csv")
        command = [binary, "affinity", "--dataset", dataset, "--by", unit, "--level", level,
                   "--min-support", repr(min_support), "--output", out, "-q"]
        if as_of is not None:
            command += ["--as-of", str(as_of)]
        subprocess.run(command, check=True, cwd=tmp)
        rules = pd.read_csv(out, dtype={"antecedent": str, "consequent": str})
    return rules.sort_values(["antecedent", "consequent"]).reset_index(drop=True)


def compare(ours, theirs):
    key = ["antecedent", "consequent"]
    joined = ours.merge(theirs, on=key, how="outer", suffixes=("_crmlens", "_mlxtend"),
                        indicator=True)
    only_ours = int((joined["_merge"] == "left_only").sum())
    only_theirs = int((joined["_merge"] == "right_only").sum())
    both = joined[joined["_merge"] == "both"]
    worst = {}
    for m in MEASURES:
        a = both[m + "_crmlens"].astype(float)
        b = both[m + "_mlxtend"].astype(float)
        # Infinite conviction is NULL on both sides.
        if ((a.isna()) != (b.isna())).any():
            worst[m] = math.inf
            continue
        diff = (a - b).abs().dropna()
        worst[m] = float(diff.max()) if len(diff) else 0.0
    return only_ours, only_theirs, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset")
    parser.add_argument("binary", nargs="?", default="target/release/crmlens")
    parser.add_argument("--min-support", type=float, default=0.01)
    parser.add_argument("--as-of", type=pd.Timestamp.fromisoformat, default=None)
    parser.add_argument("--only", default=None,
                        help="comma-separated unit/level pairs, e.g. basket/category")
    parser.add_argument("--expected", default=None, metavar="OUT.csv",
                        help="write mlxtend's rules of every unit and level to OUT.csv")
    args = parser.parse_args()
    as_of = args.as_of.date() if args.as_of is not None else None
    combos = COMBINATIONS
    if args.only:
        combos = [tuple(c.split("/")) for c in args.only.split(",")]
    if args.expected:
        frames = []
        for unit, level in combos:
            rules = mlxtend_rules(args.dataset, unit, level, args.min_support, as_of)
            rules.insert(0, "level", level)
            rules.insert(0, "unit", unit)
            frames.append(rules)
        pd.concat(frames).to_csv(args.expected, index=False, float_format="%.17g")
        print(f"wrote {sum(len(f) for f in frames)} rules to {args.expected}")
        return 0
    failed = False
    print(f"min_support {args.min_support}; rules crmlens / mlxtend, only in one of them, "
          "max |difference| per measure")
    for unit, level in combos:
        theirs = mlxtend_rules(args.dataset, unit, level, args.min_support, as_of)
        ours = crmlens_rules(args.binary, args.dataset, unit, level, args.min_support, as_of)
        only_ours, only_theirs, worst = compare(ours, theirs)
        diffs = ", ".join(f"{m} {v:.1e}" for m, v in worst.items())
        print(f"{unit}/{level}: {len(ours)} / {len(theirs)} rules, only crmlens {only_ours}, "
              f"only mlxtend {only_theirs}; {diffs}")
        if only_ours or only_theirs or any(v > 1e-9 for v in worst.values()):
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
