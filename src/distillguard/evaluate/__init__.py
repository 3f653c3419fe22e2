"""Quality of a scan against a simulated world's ground truth. See docs/evaluation.md.

`evaluate(truth_path, scan_dir) -> EvalReport` (with `.to_markdown()`, `.to_html()`,
`.to_dict()`); `measure_ttd(world_dir, hours)` for time to detection by prefix scans.
"""

from distillguard.evaluate.evaluation import EvalReport, EvaluationError, evaluate, read_truth, read_verdicts
from distillguard.evaluate.ttd import measure_ttd

__all__ = ["EvalReport", "EvaluationError", "evaluate", "measure_ttd", "read_truth", "read_verdicts"]
