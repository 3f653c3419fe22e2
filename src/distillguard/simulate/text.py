"""Synthetic answer, reasoning and tool-result text of plausible length and shape.

The simulator has no model to call, so answers are assembled from sentence banks. What matters
to detection is their size, their kind (prose, code, numbered reasoning, scores) and that
thinking blocks are present when requested, not their meaning.
"""

from __future__ import annotations

import numpy as np

from distillguard.simulate.draws import pick

_PROSE = (
    "Here is a clear way to think about it.",
    "The short answer is that it depends on a few factors.",
    "First, consider what you are trying to achieve.",
    "In practice, most people start with the simplest option and adjust from there.",
    "This works because the underlying mechanism is straightforward.",
    "A common mistake is to skip this step, which leads to confusing results later.",
    "If you want a more detailed comparison, the table below summarizes the trade-offs.",
    "Keep in mind that the exact numbers vary with your situation.",
    "Another option is to break the problem into smaller parts.",
    "Overall, the approach above should cover the typical case.",
    "It is worth checking the official documentation for recent changes.",
    "To summarize, the key points are consistency, clarity and a bit of patience.",
    "Let me know if you want me to expand on any of these points.",
    "For example, a small change in the input can make a large difference in the outcome.",
    "Historically, this idea developed over several decades.",
    "The main advantage is simplicity; the main drawback is limited flexibility.",
    "You can verify this by trying a small example by hand.",
    "Most experts agree on the general principle, though details are debated.",
)
_CODE = (
    "def solve(data):\n    result = []\n    for item in data:\n        if item is not None:\n"
    "            result.append(item)\n    return result\n",
    "function handle(input) {\n  const out = input.filter(Boolean);\n  return out.map((x) => x * 2);\n}\n",
    "class Node:\n    def __init__(self, value):\n        self.value = value\n        self.next = None\n",
    "SELECT name, COUNT(*) AS n\nFROM orders\nGROUP BY name\nORDER BY n DESC;\n",
    "for i in range(len(items)):\n    if items[i] > best:\n        best = items[i]\n",
    'fn main() {\n    let v: Vec<i32> = (1..10).collect();\n    println!("{:?}", v);\n}\n',
)
_STEPS = (
    "We are given the quantities in the statement, so we write them down first.",
    "Next we set up the relation between the unknown and the known values.",
    "Substituting the values gives an intermediate result.",
    "We check the units to make sure the expression is consistent.",
    "Now we simplify the expression step by step.",
    "This gives a candidate answer, which we verify against the constraints.",
    "The constraint holds, so the candidate is valid.",
    "Therefore the final answer follows.",
)
_THINK = (
    "The user is asking about this; let me think about what they actually need.",
    "I should consider the edge cases before answering.",
    "Let me re-check the arithmetic in the previous step.",
    "Actually, that is not quite right; the second term should be negated.",
    "So the plan is: restate the problem, solve it, then verify.",
    "I need to make sure the answer matches the format they asked for.",
    "Let me consider an alternative interpretation of the question.",
    "That approach works, but there may be a simpler one.",
    "Okay, the result seems consistent with the constraints.",
    "I will now write the final answer concisely.",
)
_TOOL_LEADS = (
    "I'll look that up for you.",
    "Let me check that.",
    "I'll call the tool to get this information.",
    "Let me run that.",
    "I'll start by inspecting the relevant files.",
)
_WORDS = ("alpha", "report", "summary", "invoice", "berlin", "march", "pending", "blue", "tokyo", "draft")
_ARG_VALUES = {
    "city": ("Paris", "Austin", "Osaka", "Lagos", "Lima", "Porto"),
    "location": ("Berlin, DE", "Seattle, WA", "Mumbai", "Toronto"),
    "query": ("latest release notes", "population of Chile", "best pasta recipe", "error code 502"),
    "path": ("src/app.py", "tests/test_api.py", "README.md", "src/utils/io.ts", "pkg/server/main.go"),
    "command": ("pytest -x -q", "npm test", "ls -la", "git diff --stat", "go test ./...", "cat setup.cfg"),
    "date": ("2026-05-14", "2026-07-01", "2026-03-09"),
}


class TextBank:
    """Seeded generators of answer-like text."""

    def __init__(self, rng: np.random.Generator) -> None:
        # Per world, a long shuffled run of each bank, so one answer is one slice of a string
        # (cheap) and the same kind of answer is worded differently in each world.
        self._prose = tuple(rng.permutation(np.array(_PROSE, dtype=object)))
        self._steps = _STEPS
        self._runs = {
            "prose": " ".join(str(x) for x in rng.choice(np.array(_PROSE, dtype=object), 4000)),
            "think": " ".join(str(x) for x in rng.choice(np.array(_THINK, dtype=object), 4000)),
        }

    def _fill(self, rng: np.random.Generator, bank: str, chars: int) -> str:
        run = self._runs[bank]
        at = int(rng.integers(0, len(run) - chars - 200)) if len(run) > chars + 400 else 0
        at = run.find(". ", at) + 2 if at else 0
        end = run.find(". ", at + chars)
        return run[at : (end + 1 if end > 0 else len(run))]

    def answer(self, rng: np.random.Generator, chars: int, kind: str = "general") -> str:
        """An answer of about `chars` characters in the style of `kind`."""
        chars = max(20, chars)
        if kind == "code":
            code = "".join(pick(rng, _CODE) for _ in range(max(1, chars // 400)))
            return self._fill(rng, "prose", chars // 4) + "\n\n```\n" + code + "```\n\n" + self._prose[0]
        if kind in ("math", "cot"):
            n = max(2, chars // 90)
            lines = [f"Step {i + 1}: {self._steps[i % len(self._steps)]}" for i in range(n)]
            return "\n".join(lines) + f"\n\nFinal answer: {int(rng.integers(2, 999))}"
        if kind == "rubric":
            score = int(rng.integers(1, 11))
            return f"Score: {score}/10\n\nJustification: " + self._fill(rng, "prose", chars)
        return self._fill(rng, "prose", chars)

    def thinking(self, rng: np.random.Generator, chars: int) -> str:
        """Thinking-block text of about `chars` characters."""
        return self._fill(rng, "think", max(40, chars))

    def tool_lead(self, rng: np.random.Generator) -> str:
        """The short sentence a model writes before a tool call."""
        return pick(rng, _TOOL_LEADS)

    def tool_result(self, rng: np.random.Generator, name: str) -> str:
        """A plausible result of the tool `name` (test output, file content, JSON)."""
        if any(k in name for k in ("bash", "run", "test", "shell")):
            passed, failed = int(rng.integers(5, 120)), int(rng.integers(0, 4))
            dots = "." * min(passed, 60)
            return f"collected {passed + failed} items\n{dots}\n{passed} passed, {failed} failed"
        if any(k in name for k in ("read", "file", "view", "open")):
            return pick(rng, _CODE)
        return '{"status": "ok", "result": "' + pick(rng, self._prose) + '"}'

    def word(self, rng: np.random.Generator) -> str:
        """A filler word for arguments."""
        return pick(rng, _WORDS)

    def arg_value(self, name: str, rng: np.random.Generator) -> str:
        """A plausible value for an argument called `name`."""
        for key, values in _ARG_VALUES.items():
            if key in name.lower():
                return pick(rng, values)
        return self.word(rng)
