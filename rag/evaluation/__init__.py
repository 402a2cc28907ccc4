"""The eval harness of rag-news (`rag eval`): question sets, metrics, report and regression gate.

The project's own regression set (evals/questions.jsonl and evals/baseline.json) lives in the
repository, not in the package; `rag eval` uses it by default when it runs from a checkout. Modules:

    dataset    a question set (JSON lines), parsed and checked
    metrics    pure metric functions (retrieval, key facts, citations, percentiles)
    scoring    per-question records and pass/fail flags; aggregate metrics; targets
    harness    runs the set (`rag eval`): retrieval per mode, ask, latency
    gate       comparison with baseline.json; per-question diff
    diagnose   why a target is missed, and what would close it
    report     summary.md, questions.json, metrics.json, the console table
    chart      chart.png
    calibrate  `rag eval --calibrate`: the abstention threshold, on the calib split
"""
