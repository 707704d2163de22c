"""The grid report's per-type table: mean ± std of each type's dev F1 over the seeds."""

from mner.experiments import per_type_table, results_table


def _summary(f1: float, per_type: dict[str, float] | None) -> dict:
    dev = {"f1": f1, "precision": f1, "recall": f1}
    if per_type is not None:
        dev["per_type"] = {t: {"f1": v, "support": {"PER": 10, "LOC": 4}[t]} for t, v in per_type.items()}
    return {"dev": dev, "train_seconds": 1.0}


def test_per_type_table_averages_each_type_over_seeds_and_names_its_support():
    results = {"text-only": [_summary(80.0, {"PER": 90.0, "LOC": 60.0}), _summary(82.0, {"PER": 92.0, "LOC": 70.0})],
               "knowledge": [_summary(85.0, {"PER": 95.0})]}
    table = per_type_table(results)
    rows = {line.split(" | ")[0]: line for line in table.splitlines() if line.startswith("| ")}
    assert rows["| variant"] == "| variant | LOC (4) | PER (10) |"
    assert rows["| text-only"] == "| text-only | 65.00 ± 7.07 | 91.00 ± 1.41 |"
    assert rows["| knowledge"] == "| knowledge | n/a | 95.00 ± 0.00 |"  # a type the run never scored


def test_report_without_per_type_scores_is_the_overall_table_alone():
    results = {"text-only": [_summary(80.0, None)]}
    assert per_type_table(results) == ""
    assert results_table(results).count("\n") == 3
