"""The bench report keeps what a run did not measure: a fresh clone has no benchmarks/out/scale.json,
and `make bench` there must not drop the README's 40-minute scale measurements."""

from benchmarks import report

META = {"date": "2026-12-01", "cpu": "cpu", "cores": 2, "mem_gb": 24, "seconds": 60, "loadavg_start": "0",
        "loadavg_end": "0", "quick": False}
ROW = "| 1M paragraphs: retrieve p50 ≤ 20 ms | 17.3 ms | met |"


def test_a_run_without_the_scale_part_keeps_the_readmes_scale_results(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.START}\n| target | measured | verdict |\n|---|---|---|\n{ROW}\n\n"
                      f"Scale (measured 2026-11-30 17:05 UTC):\n\n| vectors |\n|---|\n| 1,000,000 |\n\n- a note\n"
                      f"{report.END}\n")
    kept = report.kept_scale(readme)
    out = report.render({"meta": META}, kept)
    assert ROW in out and "Scale (measured 2026-11-30 17:05 UTC):" in out and "| 1,000,000 |" in out
    assert report.KEPT in out and "- a note" not in out  # the notes are this run's own
    # a run that measured the scale part shows its own numbers, not the kept ones
    assert report.KEPT not in report.render({"meta": META, "scale": {"date": "now", "queries": 1}}, kept)
