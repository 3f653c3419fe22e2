"""Pattern families and scoring rules for the content signals, kept as reviewable data.

Each family is one regular expression over normalized, lower-cased, single-spaced text (see
``normalize``), written in the common subset of RE2 (Arrow) and Python ``re`` with ASCII
classes: no look-arounds, no back-references, no ``\\p{..}``. A signal's score is the highest
score among its rules whose families all match, so an exchange's score can always be explained
by naming one rule.

Chain-of-thought elicitation separates ordinary requests to *solve* something step by step
(students, eval suites: a low score) from requests to *emit a reasoning trace* (write out,
reveal or reconstruct the reasoning, rationalize a finished answer, think inside tags, think in
the user's language: a high score).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """``score`` applies when every family in ``needs`` matches."""

    needs: tuple[str, ...]
    score: float
    why: str


# What a reasoning trace is called. Deliberately not "thoughts" (opinions: "share your thoughts on")
# nor "work" (students' "show your work").
_TRACE = (
    r"(?:reasoning|thought process|thinking process|thinking|chain[ -]of[ -]thoughts?|\bcot\b|"
    r"inner monologue|internal monologue|scratch ?pad|deliberation|reasoning trace|reasoning chain|"
    r"train of thought|line of thought|line of reasoning|chain of logic|chain of reasoning|thinking trace|"
    r"solution trace|reasoning process|problem-solving process|solution process|reasoning path|"
    r"scratch work|reasoning channel|thinking channel|(?:internal|inner|private|hidden|raw) thoughts)"
)
_ANSWER = r"(?:answer|solution|response|result|conclusion|output|verdict)"
_WORDS = r"(?:[ ,]+[a-z'-]+)"  # one more word, commas allowed before it
# Qualifiers that ask for the trace itself rather than an explanation.
_RAW = (
    r"(?:full|complete|entire|whole|hidden|internal|raw|private|unfiltered|summari[sz]ed|verbatim|"
    r"original|unabridged|underlying|actual|own internal|native)"
)

COT_FAMILIES: dict[str, str] = {
    # Ordinary: asks to solve or explain, says nothing about emitting a trace.
    "ordinary_step": (
        r"step[ -]by[ -]step|show (?:your|all|the) (?:work|working|steps)|explain your (?:answer|reasoning)|"
        r"justify your answer|let'?s think|think (?:carefully|it through|through)|walk me through|"
        # Imperative reasoning-request prefixes ("Chain of thought:", "Reason through this:",
        # "Let's work through this carefully:"): a request to reason, not yet for the trace.
        r"chain[ -]of[ -]thoughts? ?:|"
        r"reason (?:through|carefully about) (?:this|it|the (?:problem|question))|"
        r"(?:let'?s|let us) work (?:through this|this through|it through|through it|through the problem)|"
        r"逐步|一步一步|分步|解题过程|解题步骤"
    ),
    # Weak trace requests: write down / show the reasoning, think aloud.
    "trace_weak": (
        r"(?:write|writing|show|showing|share|give|provide|include|present|put|describe|detail|articulate|"
        r"verbali[sz]e|narrate)(?: out| down| me| us)?(?: all)?(?: of)?"
        r" (?:your|the|its) (?:own )?" + _TRACE + r"|think(?: [a-z]+){0,3} (?:out loud|aloud)|"
        # Everything that goes on in the model's head, written down.
        r"(?:write|writing|put|spell out|tell me|show me|narrate|share)(?: down| out)? "
        r"(?:everything|all|whatever)"
        r"(?: [a-z']+){0,4} (?:in|through|on in) your (?:mind|head)|"
        # Each step or inference written down (not "show all steps": a student's ordinary request).
        r"(?:write|writing|put|putting|spell out|lay out|set out|write out|writing out|write down|"
        r"writing down|narrate|narrating|number|numbering)(?: [a-z]+){0,2} (?:each|every|all)(?: of)?"
        r"(?: your| the)? (?:single |intermediate )?(?:steps?|calculations?|computations?|inferences?|"
        r"deductions?)\b|"
        # Explaining the full reasoning: what a teacher asks too, unless the trace is insisted on.
        r"(?:explain|describe|detail|articulate) (?:your|the) " + _RAW + r"(?: [a-z-]+)? " + _TRACE
    ),
    # Emit the model's own reasoning trace.
    "trace_reveal": (
        r"(?:reveal|expose|disclose|dump|output|print|transcribe|reproduce|unhide|surface|leak|copy|paste|"
        r"emit|externali[sz]e|write out|spell out|lay out|type out|set out)"
        r"(?: to me| for me| me| us)?(?: all| of)*"
        r" (?:your|the|its|a|an)(?:,? [a-z-]+){0,3} "
        + _TRACE
        + r"|(?:write|show|share|give|provide|include|present|display|return|expose|print|output|"
        r"narrate|recount|verbali[sz]e)"
        r"(?: out| down| me| us)?(?: all| of)* (?:your|the|its|a|an)? ?"
        + _RAW
        + r"(?:,? [a-z-]+){0,2} "
        + _TRACE
        # Every step of it, or all of it written down: the trace, not a solution.
        + r"|(?:narrate|verbali[sz]e|spell out|write out|write down|writing out|writing down|lay out|"
        r"walk through|transcribe) (?:each|every|all)(?: single)?(?: of the)? (?:steps?|stages?|parts?|"
        r"bits?) of (?:your|the|its)(?: [a-z-]+){0,2} "
        + _TRACE
        + r"|summari[sz]e (?:your|the) (?:own |internal |hidden |full )?"
        r"(?:reasoning|thinking|thought process)"
        + r"|reconstruct(?:s|ing)?(?:[ ,]+[a-z0-9*()'-]+){0,6}[ ,]+"
        + _TRACE
        + r"|(?:generate|produce|compose|construct|create|synthesi[sz]e|fabricate) (?:a|an|the)"
        r"(?:,? [a-z-]+){0,3} (?:chain[ -]of[ -]thought|reasoning trace|reasoning chain|rationale|"
        r"thought process|thinking process|reasoning process)"
        + r"|(?:output|print|show|share|write out|reveal|expose|dump|see|copy) (?:me |us )?"
        # The inner monologue handed over (an agent framework's "your inner monologue is private"
        # is not), and the thoughts themselves printed ("share your thoughts on" is an opinion).
        r"(?:all (?:of )?)?(?:your|the) (?:entire |whole |full |complete )?(?:inner|internal) monologue"
        + r"|(?:print|output|dump|reveal|expose|transcribe|copy) (?:out )?(?:all )?(?:of )?(?:the|your)"
        r"(?: [a-z-]+)? thoughts\b"
        + r"|"
        + _RAW
        + r" "
        + _TRACE
        + r" (?:trace|log|transcript|content|process|steps)"
        # What went on in the model's head, handed over; a gap in a record filled with the thinking.
        + r"|(?:show|tell|give|write|paste|copy|dump|print|output) (?:me |us )?(?:exactly )?what (?:you|u) "
        r"(?:were|are|was|r) (?:actually |really |truly )?thinking\b"
        + r"|(?:dump|paste|copy|print|output|emit|reveal) (?:out )?(?:whatever|everything|all that) "
        r"(?:goes|went|is going|was going) on (?:in your head|inside you|behind the (?:curtain|scenes))"
        + r"|contents? of (?:your|the|its) (?:[a-z-]+ )?"
        + _TRACE
        + r"|(?:fill in|supply|write in|reconstruct) (?:the )?missing (?:thinking|reasoning|thought process|"
        r"rationale|deliberation|chain of thought)"
    ),
    # Any name of a reasoning trace, or any mention of a language: cheap scans that gate the two
    # families below, whose word gaps are slow to scan for on every row (see SCAN_GROUPS).
    "trace_word": _TRACE,
    "language_word": r"language|english|tongue|vernacular",
    # A word every raw-trace request holds (a qualifier, a verb of handing over, a refusal to cut).
    "raw_word": (
        r"raw|unabridged|unedited|unfiltered|unredacted|untruncated|verbatim|uncondensed|private|hidden|"
        r"internal|inner|entire|whole|actual|true|word for word|as it|as they|as you|as generated|summari|"
        r"condens|edit|trim|truncat|shorten|paraphras|abridg|omit|filter|complete|full|as-is|as is|"
        r"unmodified|unaltered|unpolished|unvarnished|word by word"
    ),
    # The model's own trace asked for raw ("your entire thinking", "your hidden reasoning", "the
    # reasoning, verbatim", "the thought process without summarizing"): the trace itself, not an
    # explanation. Not "your full reasoning": homework says that too.
    "raw_trace": (
        # Handed over: an agent's system prompt says "use your internal reasoning" too.
        r"(?:output|print|show|share|write|give|provide|include|reveal|expose|dump|return|display|copy|paste|"
        r"contain|contains|containing|see|want|need|make|respond with|reply with|start with|begin with)"
        r"(?: [a-z-]+){0,3} "
        r"your (?:own )?(?:[a-z-]+,? ){0,2}(?:raw|unabridged|unedited|unfiltered|unredacted|untruncated|"
        r"verbatim|uncondensed|private|hidden|internal|inner|entire|whole|actual|true|unpolished|"
        r"unvarnished|unmodified|unaltered)(?:,? [a-z-]+)? "
        + _TRACE
        + r"|"
        + _TRACE
        + r"(?:[ ,\"'()`:-]+[a-z'-]+){0,6}[ ,\"'()`:-]+"
        r"(?:verbatim|unabridged|unedited|unfiltered|unredacted|untruncated|"
        r"uncondensed|word for word|word by word|as-is|unmodified|unaltered|"
        r"in its entirety|in their entirety|exactly as you (?:thought|think|"
        r"reasoned|worked)|exactly as (?:it|they) "
        r"(?:occurs?|happens?|unfolds?|comes?)|as (?:it|they) (?:occurs?|happens?|unfolds?)|as generated)|"
        + _TRACE
        + r"(?:[ ,\"'()`:-]+[a-z'-]+){0,6}[ ,\"'()`:-]+"
        r"(?:without|with no|no|do not|don't|dont|never) (?:summari[sz]|condens|edit|trim|truncat|"
        r"shorten|paraphras|abridg|redact|omit|filter)|"
        r"(?:the|your) (?:entire|whole|complete|full) (?:chain of logic|chain of reasoning|line of reasoning|"
        r"train of thought|thought process|thinking process|reasoning process|reasoning trace|"
        r"inner monologue|internal monologue)"
    ),
    # The trace as a named field or section of the reply, for parsing into a training set.
    "trace_field": (
        r"(?:keys?|fields?|sections?|headings?|propert(?:y|ies)|attributes?|tags?)(?: [a-z]+){0,2}"
        r"(?: (?:called|named|labeled|labelled|titled))?[:,]? [\"'\[<(](?:thinking|reasoning|thoughts|"
        r"chain[_ -]of[_ -]thought|cot|rationale|scratchpad|derivation|trace)\b|"
        r"[`\"'](?:thinking|reasoning|thoughts|chain_of_thought|cot|rationale|scratchpad|derivation)"
        r"[`\"'] ?:|"
        r"(?:called|named|labeled|labelled|titled) [\"'](?:thinking|reasoning|thoughts|"
        r"chain[_ -]of[_ -]thought|rationale|scratchpad|derivation)\b"
    ),
    # An answer that is given or fixed in advance ("the answer provided", "its accepted answer").
    "given_answer": (
        # Not "the correct answer": a multiple-choice question says that too.
        r"(?:given|provided|supplied|accepted|known|fixed|shown|finished|target|desired|verified|reference|"
        r"gold) (?:final )?"
        r"(?:answer|solution|conclusion|response)|answer key|answer (?:it|the model|the assistant) gave|"
        r"(?:answer|solution|response)s? (?:as|exactly as) (?:given|provided|supplied)|"
        r"already (?:replied|answered|responded|concluded)|already know (?:the |that |what |which )?"
        r"(?:answer|result|solution|[\"'])|标准答案|参考答案|已知(?:的)?答案|"
        r"(?:answer|solution|conclusion|response|result)s? (?:is |are )?(?:already )?"
        r"(?:given|provided|supplied|shown|known|fixed)\b|"
        r"(?:answer|solution|conclusion|response) (?:below |above )?is already "
        r"(?:final|given|known|provided)|"
        r"(?:answer|solution|conclusion) (?:that|which) (?:was|is|has been) (?:accepted|given|provided|"
        r"approved|marked correct)|the answer (?:we want|you must reach|to reach)|gold (?:answer|label)s?|"
        r"already (?:wrote|written|gave|given|produced|reached) (?:the|this|that) (?:response|answer|"
        r"solution|conclusion)|"
        r"(?:question|problem|task|prompt|\bq) ?(?:together with|with|and|\+|&) ?(?:its |the |their )?"
        r"(?:correct |final |accepted |known |verified |reference )?"
        r"(?:answer|solution|response)|q ?/ ?a pairs?|question-answer pairs?|ground truth"
    ),
    # Producing reasoning, a rationale or a derivation (only with a given answer: see the rules).
    "produce_trace": (
        r"(?:write|produce|generate|construct|fill in|infer|reconstruct|articulate|describe|create|compose|"
        r"provide|give|output|backfill|back-fill|author|emit|work backwards?|working backwards?)"
        + _WORDS
        + r"{0,7}[ ,<\"'`\[(]+(?:reasoning|thinking|thought process|line of thought|line of reasoning|"
        r"chain of thought|chain-of-thought|rationale|derivation|deliberation|steps|trace|"
        r"solution narrative|(?:step-by-step|worked) solution)\b|"
        r"rationale generation|work(?:ing)? backwards?|reverse[- ]engineer|"
        r"(?:write|spell|lay) out how (?:you|one|we|u)(?:'d| would)? (?:actually )?(?:get|got|arrive|reach)|"
        r"(?:写出|给出|生成|补全|补充)(?:得到|推出)?[^。，,.]{0,12}(?:推导|推理|思路|思考过程)"
    ),
    # The thinking must follow the user's language, in other words than `thinking_language` has.
    "language_rule": (
        # Word gaps, not character gaps: `[^.]{0,80}` after a frequent word is slow to scan for.
        r"(?:thinking|reasoning|thoughts?|deliberation|chain of thought|monologue)(?: [a-z',()-]+){0,10} "
        r"(?:same|matching|identical|consistent) language|"
        r"(?:match|matches|keep|align|set)(?: [a-z]+){0,2} (?:the )?language of (?:your|the) "
        r"(?:thinking|reasoning|thoughts?|thought process|deliberation|chain of thought|scratch ?work|"
        r"scratch ?pad|rationale|monologue)|"
        r"(?:thinking|reasoning|thoughts?|deliberation|chain of thought|monologue|rationale|scratch ?work)"
        r"(?: [a-z',()-]+){0,10} "
        r"(?:user|question|prompt|input|asker|requester|query)'?s? (?:own )?(?:language|tongue)|"
        r"(?:thinking|reasoning|thoughts?|deliberation|rationale|monologue)(?: [a-z',()-]+){0,10} "
        r"language (?:used by|spoken by|of) "
        r"(?:the )?(?:person|user|asker|question|prompt|requester|query|input|request|message|task)|"
        # The thinking kept in a language named just before ("detect the language ... reason in it").
        r"(?:thinking|reasoning|thoughts?|deliberation|rationale|monologue|scratch ?work)[,)'\"]?"
        r"(?: [a-z',()-]+){0,6} in (?:that|this|the same|that same|one) (?:language|tongue)|"
        r"(?:thinking|reasoning|thoughts?|thought process|deliberation|rationale|monologue|think|reason)"
        r"(?: [a-z',()-]+){0,4} (?:not|never) (?:be )?in english|"
        r"(?:think|reason|deliberate|thoughts?|thinking|reasoning)(?: [a-z',()-]+){0,6} "
        r"in (?:my|our) (?:own )?(?:language|tongue)|"
        r"(?:same|one) (?:language|tongue|vernacular)(?: [a-z',()-]+){0,6} (?:inner monologue|"
        r"thinking|reasoning|thoughts|deliberation|rationale)|"
        r"(?:deliberat|reason|think)[a-z]* in the vernacular|"
        r"(?:whatever|whichever) language(?: [a-z',()-]+){0,10} (?:thinking|reasoning|thoughts?|think)\b|"
        r"(?:switch|switching|default|defaulting|translat[a-z]*|mix|mixing|"
        r"code-switch[a-z]*)(?: [a-z]+){0,2} "
        r"(?:to |into |in )?(?:english|languages?)(?: [a-z',()-]+){0,6} (?:thinking|reasoning|thoughts?|"
        r"think|deliberation)|"
        r"(?:thinking|reasoning|thoughts?|think|deliberation)(?: [a-z',()-]+){0,6} "
        r"(?:switch|default|translat|mix|code-switch)[a-z]*(?: [a-z]+){0,2} (?:to |into )?"
        r"(?:english|languages?)|"
        r"language ?\( ?(?:reasoning|thinking|thought|cot)"
    ),
    # Rationalize an answer that is already given ("the reasoning behind this finished answer").
    "answer_rationalization": (
        r"(?:" + _TRACE + r"|rationale|steps|derivation) (?:behind|that led to|leading to|that leads to|"
        r"that produced|that produces|that produce|for reaching|to arrive at|that arrives at|which led to|"
        r"which leads to"
        r"|that would lead to|that could lead to|that justifies|justifying) "
        r"(?:this|the|that|a|each|these|given)"
        r"(?: [a-z-]+){0,3} "
        + _ANSWER
        + r"|(?:given|here is|here's|below is|we have|you have|you are given) (?:the|a|an|this)"
        r"(?: [a-z-]+){0,2} " + _ANSWER + r"(?: [^ ]+){0,30} (?:derive|reconstruct|justify|work backward|"
        r"reverse[- ]engineer|explain how (?:one|you|we) (?:would )?(?:get|got|arrive|reach))"
        + r"|pretend (?:that )?you (?:solved|worked out|derived|reached|arrived at|came up with)"
        r"|(?:pretend|act as if|as if) you (?:do not|don't|did not|didn't) (?:know|have|see) the " + _ANSWER
    ),
    # An answer stated outright ("The answer is 42."), then how one gets there: only where it is stated.
    "answer_stated": r"\bthe (?:correct |right |final )?answer is\b",
    "explain_backward": (
        r"(?:explain|show|write out|spell out)(?:,? [a-z]+){0,3},? how (?:one|you|we|to) (?:would )?"
        r"(?:get|gets|got|arrive|arrives|reach|reaches)|work(?:ing)? backwards?|reverse[- ]engineer"
    ),
    # The trace that came before an answer, or would have led to it (only where a trace is named).
    "trace_before_answer": (
        r"(?:" + _TRACE + r"|rationale|deliberation) (?:that )?"
        r"(?:precedes|preceded|came before|comes before) (?:the|this|that|each) "
        + _ANSWER
        + r"|(?:what|which) (?:reasoning|thinking|thought process)(?: [a-z]+){0,2} "
        r"(?:would|could|might) (?:have )?(?:led?|lead)(?: [a-z]+){0,2} to (?:this|that|the)"
        r"(?: [a-z-]+){0,2} " + _ANSWER
    ),
    # Thinking wrapped in tags for parsing into a training set.
    "think_tags": (
        r"<(?:think|thinking|thought|reasoning|scratchpad|cot)>|"
        r"(?:think|thinking|thoughts|reasoning)(?: [a-z]+){0,3} (?:tags?|blocks?)\b"
    ),
    # The thinking must follow the user's language (reported at 100k+ prompts).
    "thinking_language": (
        r"(?:thinking|reasoning|thought|thoughts)(?: content| process| trace)? "
        r"(?:must|should|needs to|has to|shall)"
        r"(?: [a-z]+){0,3} (?:in|use|match|be consistent with|follow|mirror|be the same as)"
        r"(?: [a-z']+){0,6} (?:user'?s?|question'?s?|input'?s?|prompt'?s?) ?(?:language)?|"
        r"(?:thinking|reasoning|thought)[^.]{0,60} same language as "
        r"(?:the |your )?(?:user|question|prompt|input)|"
        r"language (?:used )?(?:in|of|for) (?:the |your )?(?:thinking|reasoning|thought)"
        r"(?: content| process)? (?:must|should|has to|needs to|shall)|"
        r"language (?:used )?(?:in|of|for) (?:the |your )?(?:[a-z-]+ )?(?:thinking|reasoning|thought)"
        r"(?: content| process)?(?: [a-z']+){0,3} "
        r"(?:identical|consistent|the same|match|matches|matching|aligned|=)|"
        r"(?:think|reason|deliberate)(?: [a-z]+)? in (?:the )?(?:user|asker|questioner|requester|question|"
        r"prompt|input|query)'?s? (?:own )?language|"
        r"(?:think|reason)(?: [a-z]+)? in (?:exactly |precisely |strictly )?(?:the|whatever|whichever) "
        r"(?:same )?language (?:as |of |that )?the (?:user|question|prompt)"
    ),
    # Chinese: the language of the thinking content must follow the user's.
    "zh_language": (
        r"(?:思考|推理|思维)(?:内容|过程)?(?:的|所用的|使用的)?语言|"
        r"(?:相同|同样|一样|同一)(?:的)?语言(?:进行|来)?(?:思考|推理)|什么语言思考|"
        r"同じ言語で(?:考え|推論|思考)|"
        r"(?:razona|razonamiento|piensa|pensamiento)[a-z ]{0,40} mismo idioma|"
        r"(?:denkprozess|gedanken|denke|überlegungen)[a-zäöüß ]{0,40} (?:derselben|gleichen) sprache|"
        r"与用户(?:的)?语言(?:保持)?一致|和用户(?:的)?语言(?:保持)?一致|使用与用户相同的语言"
    ),
    # Chinese phrasings of trace harvest.
    "zh_trace": (
        r"思考内容|思维链|推理链|内心独白|"
        r"(?:完整|全部|详细|原始|隐藏|内部|真实)的?(?:思考|推理|思维)过程|"
        r"(?:还原|重建|复述|重构|输出|展示)(?:你的|出|完整的|全部|所有的)*(?:推理|思考|思路|思维)"
    ),
    # Chinese weak trace requests ("write out the reasoning process": common in homework too).
    "zh_trace_weak": r"思考过程|推理过程|思维过程|思考步骤",
    # Insists on completeness of the trace.
    "no_skip": (
        r"(?:do not|don't|never|without) (?:skip|skipping|omit|omitting|summari[sz]e|summari[sz]ing|"
        r"abbreviate|abbreviating|leave out|leaving out)(?: any| a single)?(?: of)?(?: your| the)? "
        r"(?:reasoning|thinking|step|steps|intermediate)|every (?:single )?intermediate (?:step|thought)|"
        r"(?:do not|don't|dont|never|no) (?:skip|skipping|shortcut|shortcutting|jump|jumping|condense|"
        r"summari[sz]e|abridge|truncate|shorten)(?: [a-z]+){0,3} (?:any|anything|steps?|ahead|"
        r"to the (?:answer|conclusion|result|solution))\b|"
        r"(?:every|each) (?:single )?(?:intermediate )?(?:calculation|computation|inference|deduction)\b|"
        r"every single step|every step of (?:your|the) (?:working|work|reasoning|thinking|solution)|"
        r"no steps? (?:omitted|skipped|left out)|(?:leaving|leave) nothing (?:implicit|out)|"
        r"nothing (?:implicit|omitted|skipped)|exhaustive (?:walkthrough|derivation|trace|breakdown)|"
        r"(?:nothing|no step|no steps) (?:omit|omitted|left out|skipped)\b|exhaustively|"
        r"in (?:full|complete|exhaustive) detail|in as much detail as possible|"
        r"(?:every|each) (?:intermediate |single )?(?:consideration|assumption|sub-?step|check|"
        r"self-correction|correction)s?\b|(?:from|through) (?:the )?first (?:step )?to (?:the )?last step|"
        r"not (?:just |only )?(?:a |the )?(?:short|brief|polished|condensed|final|tidy|cleaned-up|cleaned up|"
        r"clean|summari[sz]ed|edited|summary)(?: [a-z-]+)? "
        r"(?:explanation|summary|answer|version|write-?up)|"
        # The dead ends and false starts a worked solution leaves out.
        r"(?:including|include|with|keep|keeping) (?:all |every |the |your )?(?:dead ends|false starts|"
        r"abandoned attempts|wrong turns)|(?:dead ends|false starts|wrong turns) included|"
        r"不要省略|不要跳过"
    ),
}

COT_RULES: tuple[Rule, ...] = (
    Rule(("ordinary_step",), 0.3, "asks for a step-by-step solution"),
    Rule(("trace_weak",), 0.5, "asks to show the reasoning"),
    Rule(("zh_trace_weak",), 0.5, "asks for the reasoning process (Chinese)"),
    Rule(("no_skip",), 0.5, "insists that no reasoning step be left out"),
    Rule(("think_tags",), 0.8, "asks for thinking inside tags"),
    Rule(("trace_reveal",), 0.85, "asks to write out or reveal the reasoning trace"),
    Rule(("answer_rationalization",), 0.85, "asks for the reasoning behind a given answer"),
    Rule(("zh_trace",), 0.85, "asks for the thinking content or full reasoning (Chinese)"),
    Rule(("language_word", "thinking_language"), 0.9, "dictates the language of the thinking content"),
    Rule(("language_word", "language_rule"), 0.9, "dictates the language of the thinking content"),
    Rule(("trace_word", "raw_word", "raw_trace"), 0.85, "asks for the model's own reasoning trace, unedited"),
    Rule(("trace_field",), 0.5, "asks for the reasoning as a named field or section"),
    Rule(("given_answer", "produce_trace"), 0.85, "asks for the reasoning behind a given answer"),
    Rule(("answer_stated", "explain_backward"), 0.85, "asks how one gets to an answer it states"),
    Rule(("trace_word", "trace_before_answer"), 0.85, "asks for the reasoning that led to an answer"),
    Rule(("trace_word", "raw_word", "raw_trace", "no_skip"), 0.95, "asks for the complete reasoning trace"),
    Rule(("trace_field", "no_skip"), 0.9, "asks for the complete reasoning as a field"),
    Rule(("zh_language",), 0.9, "dictates the language of the thinking content (Chinese)"),
    Rule(("trace_weak", "no_skip"), 0.8, "asks for the reasoning with no step left out"),
    Rule(("trace_weak", "think_tags"), 0.9, "asks for the reasoning inside tags"),
    Rule(("trace_reveal", "no_skip"), 0.95, "asks for the complete reasoning trace"),
    Rule(("trace_reveal", "think_tags"), 0.95, "asks for the reasoning trace inside tags"),
    Rule(("answer_rationalization", "trace_reveal"), 0.95, "rationalizes a given answer as a trace"),
    Rule(("zh_trace", "zh_language"), 0.95, "harvests thinking content in the user's language"),
)

RUBRIC_FAMILIES: dict[str, str] = {
    # Any mention of a reward: a cheap scan that gates the slower one below.
    "reward_word": r"reward|preference model|奖励模型|偏好模型|评分模型",
    "reward_model": (
        # The model cast as one, or asked for its output: not an explanation of how reward models work.
        r"(?:as|be|are|like|act as|serve as|behave as|function as) (?:a|an|the|my|our) (?:[a-z-]+ )?"
        r"(?:reward|preference) model|(?:reward|preference)[- ]model (?:score|scoring|rating|output|mode|"
        r"label|judgement|judgment)s?\b|reward signal for|奖励模型|偏好模型|评分模型|"
        r"(?:assign|give|output|return|compute|produce|predict)(?: [a-z]+){0,2} (?:scalar |numeric |"
        r"numerical )?reward\b|reward (?:score|value)\b"
    ),
    "judge_persona": (
        r"(?:act|serve|behave|function|acting) as (?:a|an|the) (?:[a-z-]+ ){0,2}"
        r"(?:judge|grader|evaluator|rater|critic|scorer|annotator)|"
        r"(?:assume|take|play|adopt|take on) the role of (?:a|an|the) (?:[a-z-]+ ){0,2}"
        r"(?:judge|grader|evaluator|rater|critic|scorer)|you are (?:a|an|the) (?:[a-z-]+ ){0,2}"
        r"(?:judge|grader|evaluator|rater|scorer|annotator)\b|评审员|评委|打分员"
    ),
    "score_scale": (
        r"(?:score|scores|rate|rating|grade|mark)(?: [a-z-]+){0,6} (?:on|using|with|from|in) (?:a |the )?"
        r"(?:scale|range)|(?:scale|range) (?:of|from) \d+ ?(?:to|-|~) ?\d+|\b\d+ ?(?:to|-|~) ?\d+ scale|"
        r"score(?: [a-z]+){0,2} (?:of|from|between) \d+ (?:to|and|-) \d+|\b(?:\d+|x|n) ?/ ?(?:5|10|100)\b|"
        r"(?:rating|score|grade|mark) out of \d+|likert|"
        r"(?:rate|score|grade|mark)(?: [a-z'-]+){0,4} (?:from|between) [-+]?\d+ (?:to|and|-) [-+]?\d+|"
        r"(?:rate|score|grade|mark) (?:this|that|it|the|each)(?: [a-z'-]+){0,3},? \d+ ?(?:-|to|~) ?\d+\b|"
        r"scalar(?: [a-z]+)? (?:in|between|from) \[? ?0 ?(?:,|and|to|-) ?1\b|"
        r"score[>\"'\]]? (?:of|from|between) \d+ (?:to|and|-) \d+|deduct(?:s|ing)? (?:a )?points?\b|"
        r"(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|\d+)[- ]point (?:scale|likert)|"
        r"(?:on|using|with) (?:a |the )?[a-z0-9-]+ scale\b|"
        r"(?:打分|评分|打个分|给出分数|分数为|满分)|\d+ ?(?:到|至) ?\d+ ?(?:的)?分"
    ),
    "criteria": (
        r"\brubric|scoring (?:guide|criteria|rules)|evaluation criteria|grading criteria|"
        r"(?:helpfulness|harmlessness|honesty|accuracy|relevance|coherence|fluency|factuality|correctness|"
        r"clarity|concision|conciseness|faithfulness|completeness|groundedness|instruction-following)"
        r",? (?:and )?(?:helpfulness|harmlessness|honesty|accuracy|relevance|coherence|fluency|factuality|"
        r"correctness|clarity|concision|conciseness|faithfulness|completeness|groundedness|"
        r"instruction-following)\b|"
        r"(?:helpful|honest|harmless|accurate|relevant|coherent|fluent|factual)(?:,| and) (?:and )?"
        r"(?:helpful|honest|harmless|accurate|relevant|coherent|fluent|factual)\b|"
        r"评分标准|评估标准|评价标准"
    ),
    "pairwise": (
        r"which (?:completion|response|answer|reply|output) (?:[a-z'-]+ ){0,4}(?:would prefer|prefers?|"
        r"preferred|is better)|(?:first|second|other) (?:response|answer|completion|reply|output) is "
        r"(?:better|preferred)|pairwise comparison|preference label(?:l)?ing|"
        r"which (?:of the (?:two|following) )?(?:response|answer|completion|reply|output|assistant)s? "
        r"(?:is|was) (?:better|preferred|more helpful)|\[\[a\]\]|\[\[b\]\]|"
        r"(?:response|answer|assistant|output) a (?:or|vs\.?|versus|and) "
        r"(?:response |answer |assistant |output )?b\b|"
        r"哪个回答更好|哪一个回答更好|"
        r"rank (?:the|these|following|the following|all) (?:[a-z-]+ ){0,2}(?:responses|answers|completions|"
        r"outputs|replies)|compare (?:the )?(?:two )?(?:responses|answers|outputs|completions|replies)\b|"
        r"(?:response|answer|output|completion) 1 (?:and|or|vs\.?|versus|with) (?:response |answer |output |"
        r"completion )?2\b|"
        r"compare (?:the )?(?:two |both )?(?:[a-z-]+ )?(?:responses|answers|outputs|completions|replies)\b|"
        r"which (?:one )?(?:is|was) (?:better|preferred|more helpful)[ ,:]+(?:a|1) or (?:b|2)\b|"
        r"(?:pick|choose|select|identify) (?:the )?(?:one|response|answer|completion|output|reply)"
        r"(?: [a-z]+){0,3} (?:that )?best (?:follows|answers|satisfies|addresses|meets|fulfils|fulfills)"
    ),
    "graded_object": (
        r"(?:evaluate|assess|judge|grade|score|rate|critique|check|verify|audit) (?:the|this|each|both|these|"
        r"following|the following|given|the given|an?) (?:[a-z'-]+ ){0,2}(?:response|responses|answer|"
        r"answers|completion|completions|reply|replies|output|outputs|generation|generations)"
        r"|(?:评估|评价|打分)(?:以下|下面|这个|该)?(?:的)?(?:回答|回复|答案)"
        r"|(?:how (?:good|helpful|accurate|useful|well written) is|(?:quality|helpfulness|accuracy) of|"
        r"(?:score|rating|grade) (?:to|for)) (?:the|this|that|each|every|the following|the given) "
        r"(?:[a-z-]+ ){0,2}(?:response|answer|completion|reply|output|generation)s?\b"
        r"|(?:rate|score|grade|judge|assess|evaluate) how (?:well|good|accurate|helpful|harmless|honest|safe|"
        r"correct|relevant|useful)(?: and [a-z]+)? (?:the|this|each|"
        r"the following) (?:[a-z'-]+ ){0,2}(?:response|answer|completion|reply|output)"
        r"|(?:answer|response|output|completion|submission|solution)s? (?:under review|to (?:be )?(?:graded|"
        r"evaluated|scored|judged|rated))"
        r"|(?:each|every) (?:[a-z'-]+ )?(?:attempt|submission)\b"
        r"|\b(?:response|answer|completion|reply|output|submission) (?:below|above)\b"
        r"|is (?:this|that|it) a (?:good|correct|valid|acceptable|bad) (?:answer|response|reply|solution)\b"
        r"|(?:model|assistant|ai|chatbot|llm)(?:'s)? (?:output|response|reply|answer|completion|"
        r"generation)s?\b"
    ),
    # A pass / fail or yes / no verdict on a given answer (common alone, so only in combination).
    "judged_target": (
        r"whether (?:the|this|that) (?:[a-z-]+ ){0,2}(?:answer|response|reply|output|completion) "
        r"(?:is|was) (?:correct|accurate|right|acceptable|valid)|"
        r"does (?:the|this) (?:[a-z'-]+ ){0,2}(?:reply|response|answer|output|completion) "
        r"(?:follow|satisfy|meet|comply|fulfil|fulfill|address)|proposed (?:answer|solution)|"
        r"candidate (?:answer|response|reply|completion|solution|output)s?\b"
    ),
    "verdict": (
        r"pass ?/ ?fail|['\"]?pass['\"]? or ['\"]?fail\b|met ?/ ?unmet|met or unmet|good ?/ ?bad|"
        r"(?:output|answer|reply|respond|return|say|give|tell me)(?: with)?(?: only)?(?: a| an)? "
        r"(?:\"?pass\"? or \"?fail|yes or no|yes ?/ ?no|correct or incorrect|true or false|good or bad|"
        r"acceptable or unacceptable)"
    ),
    "score_only": (
        r"(?:output|return|respond with|reply with|give|print) only (?:the |a |your )?(?:final )?"
        r"(?:score|rating|grade|number|verdict)|\[\[rating\]\]|只输出分数|仅输出分数"
    ),
}

RUBRIC_RULES: tuple[Rule, ...] = (
    Rule(("criteria",), 0.15, "mentions grading criteria"),
    Rule(("score_scale",), 0.25, "asks for a score on a scale"),
    Rule(("graded_object",), 0.3, "asks to evaluate a response"),
    Rule(("judge_persona",), 0.4, "casts the model as a judge or grader"),
    Rule(("graded_object", "score_scale"), 0.7, "asks to score a response on a scale"),
    Rule(("graded_object", "criteria"), 0.7, "asks to grade a response against criteria"),
    Rule(("pairwise",), 0.7, "asks which of two responses is better"),
    Rule(("score_only", "score_scale"), 0.75, "asks for a bare score on a scale"),
    Rule(("score_scale", "criteria"), 0.7, "asks for a score on a scale against criteria"),
    Rule(("judged_target",), 0.3, "asks about a given answer"),
    Rule(("judged_target", "verdict"), 0.75, "asks for a verdict on a given answer"),
    Rule(("graded_object", "verdict"), 0.75, "asks for a pass / fail verdict on a response"),
    Rule(("judged_target", "score_scale"), 0.75, "asks to score a given answer"),
    Rule(("judge_persona", "graded_object"), 0.85, "casts the model as a judge of a response"),
    Rule(("judge_persona", "score_scale"), 0.85, "casts the model as a grader with a scale"),
    Rule(("reward_word", "reward_model"), 0.9, "casts the model as a reward model"),
    Rule(("graded_object", "score_scale", "criteria"), 0.9, "rubric grading of a response"),
    Rule(("reward_word", "reward_model", "score_scale"), 0.95, "reward-model role with a scoring scale"),
)

REWRITE_FAMILIES: dict[str, str] = {
    "rewrite": (
        r"\b(?:rewrite|re-write|rephrase|reword|paraphrase|reformulate|restate|recast|soften|sanitize|"
        r"sanitise|tone down|neutrali[sz]e)|改写|重写|改述|换个说法|重新表述|润色"
    ),
    "safe_framing": (
        r"censor|politically (?:sensitive|safe|neutral|correct|acceptable|risky|restricted)|sensitive "
        r"(?:political )?(?:topic|question|word|term|content|issue|subject|matter)s?|political(?:ly)? risky|"
        # Content rules of a state, not a company's or a game's ("the official rules of chess").
        r"(?:state|government|official|chinese|mainland|online|internet|domestic) content (?:regulations?|"
        r"rules|review|requirements|controls?|audit|moderation)|(?:chinese|mainland) (?:regulations?|rules|"
        r"review|requirements)|"
        r"content[- ]control|approved narratives?|(?:state|official|government)(?:'s)? (?:published )?"
        r"(?:narratives?|stance|viewpoint|position)s?|sanctioned (?:viewpoint|view|narrative|position)|"
        r"(?:toe|toes|toeing|follow|follows|following|stick to|sticks to|hold|holds|reflect|reflects|"
        r"the way) the (?:official|party|government) line|"
        r"(?:not|never) (?:deviate|depart|diverge|stray|differ)s? from (?:the )?(?:government'?s?|official|"
        r"party|state)|regulatory review|state (?:media|press|broadcaster|television|newspaper|outlet)|"
        r"(?:censors?|regulators?|authorities|government)(?: [a-z'-]+){0,3} (?:would|will|might|could) "
        r"(?:approve|accept|allow|pass|not flag|not object|not block|not censor|sign off)|"
        r"regulators? (?:accepts?|allows?|approves?|tolerates?)|content security|"
        r"(?:strictly |heavily )?regulated (?:media|platform|outlet)s?|"
        r"(?:not|never) contradict(?:s|ing)? (?:the )?official|"
        r"forbidden (?:content|topics?|words)|harmonious|"
        r"(?:avoid|bypass|evade|pass|passes|passing|get past|slip past|not trigger|without triggering|"
        r"survive)"
        r"(?: [a-z-]+){0,3} (?:filter|filters|moderation|review|censors?|censorship|blocking|flags?)|"
        r"acceptable (?:in|for|to) (?:mainland )?(?:china|chinese|the chinese|the mainland|beijing)|"
        # The state's rules, not a company's ("in line with our brand guidelines" is ordinary).
        r"(?:compliant|consistent|in line|aligned|conform(?:s|ing)?) (?:with|to) (?:[a-z'-]+ ){0,3}"
        r"(?:(?:government|state|party|"
        r"official|national|censorship|content|chinese|internet|domestic) (?:regulations|rules|guidelines|"
        r"polic(?:y|ies))|core values|official (?:positions?|narratives?|line|stance))|"
        r"acceptable to (?:[a-z-]+ ){0,2}(?:regulators|censors|authorities|the government)|"
        r"敏感|审查|审核|和谐|合规|正面|政治正确|官方(?:立场|口径|表述)|社会主义核心价值观|规避"
    ),
    "sensitive_topic": (
        r"tiananmen|june (?:4|fourth)(?:th)?,? 1989|tank man|1989 (?:protests?|massacre|crackdown)|"
        r"(?:protests?|massacre|crackdown) (?:of|in) 1989|falun ?gong|xinjiang|uyghur|uighur|tibet|"
        r"dalai lama|taiwan(?:ese)? (?:independence|sovereignty)|hong kong (?:protest|democracy|"
        r"independence)|xi jinping|winnie the pooh|\bccp\b|chinese communist party|great firewall|"
        r"cultural revolution|great leap forward|liu xiaobo|political prisoner|dissident|"
        r"territorial disputes?|sensitive (?:leaders|events|dates|anniversaries)|"
        r"六四|天安门|法轮功|新疆|维吾尔|西藏|达赖|台独|台湾独立|港独|习近平|共产党|中共|"
        r"文化大革命|文革|大跃进|刘晓波|异见|翻墙"
    ),
    # An answer made inoffensive rather than a text rewritten: with safe framing, the same request.
    "neutral_answer": (
        r"(?:safe|neutral|uncontroversial|non-?controversial|compliant|inoffensive|sanitized|sanitised|"
        r"regulation-compliant|approved|harmonious|sanctioned)['\"]?(?:,? [a-z-]+){0,2} (?:reply|answer|"
        r"response|version|wording|formulation|phrasing|rephrasing|alternative|tone|stance|register)|"
        r"safe[_ ]answer|(?:safe|fit|suitable|ready) for publication|\bdeflect(?:s|ing)?\b|"
        r"中立|中性|稳妥|安全(?:版本|的回答|回答)|回避(?:争议|敏感)|"
        r"(?:not|never|without|don't|do not) touch(?:ing)? (?:on )?(?:any )?|"
        r"(?:strip|strips|stripping|remove|removes|removing|omit|omits|omitting|leave|leaves|leaving) "
        r"(?:out )?(?:any |all )?(?:politically |political )?(?:sensitive|controversial)|"
        r"(?:avoid|avoiding|avoids) (?:any |all )?(?:sensitive|political|politically|controversial|"
        r"controversy)|"
        r"(?:steer|steers|steering|stay|stays|staying|keep|keeps|keeping) (?:away|clear) (?:from|of)|"
        r"safe to publish|innocuous|(?:does not|doesn't|without) tak(?:e|es|ing) (?:a |any )?"
        r"(?:controversial|political|partisan) (?:position|stance|side|view)|"
        r"(?:without|avoid|avoiding|avoids) (?:touching|"
        r"discussing|mentioning|addressing)(?: any| on)?(?: [a-z-]+){0,2} (?:sensitive|political|"
        r"controversial)|(?:answer|respond|reply)(?: [a-z'-]+){0,4} in a way that"
    ),
    # An answer held to what an authority approves, in words with gaps ("a reply that the press office
    # would sign off on", "an answer fully consistent with official positions"): slow to scan for on
    # every row, so looked for only where the framing is political already (see the rules).
    "approved_reply": (
        r"(?:answer|reply|response|version|respond|write)(?: [a-z'-]+){0,8} (?:fully |strictly |entirely )?"
        r"(?:consistent|compliant|aligned|in line|in keeping|conform(?:s|ing)?) (?:with|to) (?:the )?"
        r"(?:official|government'?s?|state|party|sanctioned|approved|domestic|national|censorship)|"
        r"(?:response|reply|answer|version|statement)(?: [a-z'-]+){0,6} (?:(?:that|which) )?(?:a |an |the )?"
        r"(?:[a-z-]+ ){0,4}(?:would|will|could|might) (?:approve|accept|sign off|pass|allow)|"
        r"(?:answer|respond|reply)(?: [^ ]+){0,12} in a (?:way|manner|fashion) that"
    ),
    "explicit_censorship": (
        r"censorship[- ](?:safe|proof|free|compliant|friendly)|"
        r"(?:avoid|evade|bypass|pass|survive|escape|dodge)(?:s|es|ing|ed)?"
        r"(?: [a-z-]+){0,2} (?:censorship|being censored|the censors)|"
        r"(?:for|by|past|to) (?:the )?(?:chinese|mainland|government|state|party) censors?|"
        r"won'?t (?:be|get) (?:censored|flagged|blocked)|"
        r"(?:government|state|official|party) (?:content )?(?:review|censors?|censorship|approval)|"
        r"core socialist values|harmful to national (?:security|unity)|"
        r"(?:stay|stays|staying|remain|remains) within (?:the )?(?:approved|official|officially accepted|"
        r"officially approved|permitted) |"
        r"通过(?:内容)?审核|被(?:审核|审查)删除|会被审查|可能被审查|"
        r"规避审查|通过审查|避免审查|不被审查|不会被屏蔽|过审"
    ),
}

REWRITE_RULES: tuple[Rule, ...] = (
    Rule(("sensitive_topic",), 0.15, "mentions a politically sensitive topic"),
    Rule(("rewrite", "sensitive_topic"), 0.5, "asks to rewrite text on a sensitive topic"),
    Rule(("safe_framing", "sensitive_topic"), 0.5, "frames a sensitive topic for acceptability"),
    Rule(("rewrite", "safe_framing"), 0.75, "asks for a politically safe rewrite"),
    Rule(("neutral_answer", "safe_framing"), 0.75, "asks for a politically safe answer"),
    Rule(("neutral_answer", "safe_framing", "sensitive_topic"), 0.9, "safe answer on a sensitive topic"),
    Rule(("safe_framing", "approved_reply"), 0.75, "asks for an answer an authority would approve"),
    Rule(("safe_framing", "approved_reply", "sensitive_topic"), 0.9, "approved answer on a sensitive topic"),
    Rule(("explicit_censorship",), 0.8, "asks for a censorship-safe formulation"),
    Rule(("rewrite", "safe_framing", "sensitive_topic"), 0.95, "safe rewrite of a sensitive topic"),
    Rule(("rewrite", "explicit_censorship"), 0.95, "asks for a rewrite that passes censorship"),
)

SIGNALS: dict[str, tuple[dict[str, str], tuple[Rule, ...]]] = {
    "cot_elicitation": (COT_FAMILIES, COT_RULES),
    "rubric_grading": (RUBRIC_FAMILIES, RUBRIC_RULES),
    "censorship_rewrite": (REWRITE_FAMILIES, REWRITE_RULES),
}

# How the column path scans for candidate rows: one RE2 union per group. Families whose word gaps
# multiply the states of a shared union's DFA scan in groups of their own: with them all in one
# union, RE2 falls back to its slow NFA on ordinary text that repeats "reasoning" or "thinking"
# (measured: the chain-of-thought union with `thinking_language` 430 ms per 8k prompts, without it
# 25 ms; all chain-of-thought families in one union 240 ms per 6k prompts, in these groups 46 ms).
# Only the families that come first in a rule need a group (see elicitation.py); one left out of
# every group scans alone.
SCAN_GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "cot_elicitation": (
        ("trace_reveal",),
        ("trace_word", "language_word", "zh_trace_weak", "think_tags"),
        ("answer_rationalization",),
        ("trace_weak", "trace_field", "zh_language"),
        ("given_answer", "no_skip", "ordinary_step", "zh_trace", "answer_stated"),
    ),
    "rubric_grading": (
        ("score_scale",),
        ("graded_object", "criteria", "pairwise", "reward_word", "score_only"),
        ("judge_persona", "judged_target"),
    ),
    "censorship_rewrite": (
        ("safe_framing", "neutral_answer", "explicit_censorship"),
        ("sensitive_topic", "rewrite"),
    ),
}

# Capability families; structural hints (tools, images, code fences) are added in capability.py.
CAPABILITY_FAMILIES: dict[str, str] = {
    "coding": (
        r"```|\b(?:python|javascript|typescript|java|golang|rust|kotlin|swift|php|ruby|perl|haskell|scala|"
        r"c\+\+|c#|bash|shell script|powershell|sql|html|css|react|node\.?js|django|flask|numpy|regex|"
        r"regular expression|code|coding|program|programming|script|function|method|class|compile|"
        r"compiler|debug|bug|stack ?trace|refactor|unit test|algorithm|api endpoint|json|yaml|docker|"
        r"kubernetes|git|repository|variable|loop|recursion|def|import|console\.log|#include)\b|"
        r"代码|编程|函数|程序"
    ),
    "tool_use": (
        r"toolformer|tool call|function call|functions? available|available (?:tools|functions)|"
        r"you have access to (?:the following )?(?:tools|functions|apis)|<tool|tool_use|"
        r"\bagent(?:ic)?\b|use the [a-z_]+ tool|call the [a-z_]+ (?:function|tool|api)|工具调用"
    ),
    "math_reasoning": (
        r"\b(?:solve|equation|equations|integral|derivative|prove|proof|theorem|lemma|probability|"
        r"arithmetic|algebra|geometry|calculus|math|maths|mathematical|logic puzzle|riddle|"
        r"sqrt|factorial|prime number|how many|sum of|product of|remainder)\b|"
        r"\d+ ?[-+*/^×÷] ?\d+|数学|方程|证明|计算"
    ),
    "data_analysis": (
        r"\b(?:dataset|data set|csv|spreadsheet|excel|pandas|dataframe|statistics|statistical|"
        r"regression|correlation|median|standard deviation|variance|pivot|chart|plot|histogram|"
        r"visuali[sz]e|analy[sz]e (?:the |this )?data|data analysis|trend|table)\b|数据分析|数据集|表格"
    ),
    "vision": (
        r"\b(?:this|the|attached|following|uploaded|my) (?:image|picture|photo|photograph|screenshot|"
        r"diagram|figure|chart image|scan)\b|图片|图像|截图|照片"
    ),
    "roleplay": (
        r"\brole ?-?play|\bstay in character|\bin character\b|\bas if you were\b|\byour character\b|"
        r"\b(?:play|take|assume|take on) the (?:role|part|persona) of\b|扮演|角色扮演"
    ),
}
# Helper families for roleplay: a persona ("You are a pirate captain") is roleplay unless it is
# the assistant persona of a system prompt ("You are a helpful assistant").
PERSONA_FAMILIES: dict[str, str] = {
    "persona": (
        r"^you are (?:a|an|the) |^you are [a-z]+ [a-z]+,|\bact as (?:a|an|the|if)\b|"
        r"\b(?:pretend|imagine) (?:that )?(?:you are|you're|to be)"
    ),
    "assistant_persona": (
        r"(?:you are|act as|be|you're|to be) (?:a|an|the) (?:[a-z,'-]+ ){0,4}"
        r"(?:assistant|chatbot|bot|language model|llm|ai model)\b"
    ),
}
