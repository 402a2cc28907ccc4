"""The eval harness of rag-news: the question set, metrics, report and regression gate.

It is not part of the `rag` package (rag never reads the questions): `rag eval` loads this folder by
path from the repository. Modules:

    dataset    questions.jsonl, parsed and checked
    metrics    pure metric functions (retrieval, key facts, citations, percentiles)
    scoring    per-question records and pass/fail flags; aggregate metrics; targets
    harness    runs the set (`rag eval`): retrieval per mode, ask, latency
    gate       comparison with baseline.json; per-question diff
    diagnose   why a target is missed, and what would close it
    report     summary.md, questions.json, metrics.json, the console table
    chart      chart.png
    calibrate  `rag eval --calibrate`: the abstention threshold, on the calib split
"""
