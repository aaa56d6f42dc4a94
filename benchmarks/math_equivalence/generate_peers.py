"""Write peers.jsonl: our own cases for the categories the peers' test suites cover.

Issue 17 measured the verifier on a hidden set built from the public verifiers'
own regression suites and on a red-team set. We cannot see those cases, so this file
holds cases *we* wrote, one list per category, each tagged with the ``suite`` whose
public tests the category comes from (we read them for the kind of input, never
copied their text):

- ``math_verify``: huggingface/Math-Verify ``tests/`` (long model responses with
  chat-template junk, several boxes, percent spellings, thousands separators,
  intervals, matrices, labelled answers);
- ``hendrycks``: hendrycks/math ``math_equivalence_test.py`` (string normalisation:
  ``\\dfrac``, ``\\left(``, ``\\text{}`` units, ``0.5`` vs ``.5``, ``\\frac12``);
- ``nemo_skills``: NVIDIA NeMo-Skills ``tests/test_math_equal.py`` (base-n numbers,
  clock times, mixed numbers, ``\\pm`` sets, braced unit exponents, primes);
- ``mario_eval``: MARIO_EVAL (intervals, lists vs sets, equations with labels);
- ``verl``: volcengine/verl math reward tests (``\\boxed`` in a response, ``#### N``);
- ``lm_eval``: EleutherAI lm-evaluation-harness math grader PRs ("Final Answer: The
  final answer is ... I hope it is correct.");
- ``red_team``: adversarial candidates from issue 17's red-team classes (which
  answer counts, negated/hedged boxes, units, ``\\approx``/``\\ldots``, near-integer
  decimals, percent) -- every one of them expected false.

Run after editing (``tests/test_benchmark_peers.py`` fails when the file is stale):

    python benchmarks/math_equivalence/generate_peers.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "peers.jsonl"

MV, HEN, NEMO, MARIO, VERL, LMEVAL, RED = (
    "math_verify",
    "hendrycks",
    "nemo_skills",
    "mario_eval",
    "verl",
    "lm_eval",
    "red_team",
)

# category -> [(suite, candidate, reference, expected, note)]
CASES: dict[str, list[tuple[str, str, str, bool, str]]] = {
    "prose_extraction": [
        (MV, "So the value is $\\frac13.$", "\\frac{1}{3}", True, "period inside the math"),
        (MV, "Hence we get $5,$ as required", "5", True, "comma inside the math"),
        (
            MV,
            "The two roots are $\\boxed{2}\\quad\\text{and}\\quad\\boxed{7}$.",
            "2, 7",
            True,
            "boxes joined by \\quad\\text{and}\\quad",
        ),
        (
            MV,
            "Both $\\boxed{3}$ and $\\boxed{9}$ are the solutions.",
            "3, 9",
            True,
            "boxes joined by a word",
        ),
        (
            LMEVAL,
            "Adding up.\nFinal Answer: The largest $n$ is 34.",
            "34",
            True,
            "final answer in a sentence after a variable",
        ),
        (
            LMEVAL,
            "Final Answer: The smallest value of $k$ is $12$. I hope it is correct.",
            "12",
            True,
            "final answer in a sentence, inline math",
        ),
        (
            MV,
            "Counting the paths gives 35 in total, so 35 routes exist.<|im_end|>\n"
            "<|im_start|>user\nNext question: what is 2+2?",
            "35",
            True,
            "chat-template junk and a new prompt after the answer",
        ),
        (
            MV,
            "The probability is 2/3. I hope it is correct. <|im_start|>user",
            "\\frac23",
            True,
            "chat token after the final sentence",
        ),
        (
            MV,
            "Thus the area of the region is $\\frac{9\\pi}{4}$ square units.",
            "\\frac{9\\pi}{4}",
            True,
            "inline math in the middle of the last sentence",
        ),
        (
            LMEVAL,
            "Final Answer: The final answer is $28 \\%$. I hope it is correct.",
            "28\\%",
            True,
            "lm-eval template with percent",
        ),
        (VERL, "Each box holds 12, and 4 boxes hold 48.\n#### 48", "48", True, "GSM8K marker"),
        (VERL, "The total is $\\boxed{1{,}250}$ dollars.", "1250", True, "box with {,}"),
        (
            MV,
            "Therefore the answer is $\\boxed{\\text{Evelyn}}$.",
            "\\text{Evelyn}",
            True,
            "word answer in a box",
        ),
        (
            MV,
            "The answer is $(3, \\frac{\\pi}{2})$.",
            "\\left( 3, \\frac{\\pi}{2} \\right)",
            True,
            "polar point with \\left( \\right)",
        ),
        (MV, "We find $x = \\frac{10}{9}$.", "10/9", True, "assignment at the end of a sentence"),
        (
            LMEVAL,
            "Final Answer: The final answer is 12,000,023. I hope it is correct.",
            "12000023",
            True,
            "commas in the final sentence",
        ),
        (MV, "The answer is $\\boxed{7}$.", "5", False, "wrong value in prose"),
        (
            MV,
            "So there are $\\frac{1}{4}.$",
            "\\frac{1}{3}",
            False,
            "period inside the math, wrong",
        ),
        (LMEVAL, "Final Answer: The largest $n$ is 33.", "34", False, "wrong value in a sentence"),
        (
            MV,
            "Both $\\boxed{3}$ and $\\boxed{8}$ are the solutions.",
            "3, 9",
            False,
            "one of two boxes wrong",
        ),
    ],
    "reference_unwrapping": [
        (MV, "\\boxed{2, 1}", "\\boxed{1,2}", True, "a list inside a box as the reference"),
        (MV, "odd", "$\\text{odd}$", True, "word reference in $ \\text{} $"),
        (MV, "4", "\\( 4 \\)", True, "\\( \\) delimiters on the reference"),
        (
            MV,
            "The answer is $\\boxed{15}$.",
            "Since $3 \\cdot 5 = 15$, the answer is $\\boxed{15}$.",
            True,
            "a whole worked solution as the reference",
        ),
        (NEMO, "204_5", "204_5", True, "base-5 number, identical"),
        (NEMO, "4210_7", "4210_{7}", True, "base-7 number, braced subscript"),
        (NEMO, "12:00", "12:00", True, "clock time, identical"),
        (NEMO, "10 \\text{ cm}^2", "10\\text{ cm}^{2}", True, "unit with a braced exponent"),
        (NEMO, "f'", "f'", True, "a prime, identical"),
        (NEMO, "\\text{(C)}", "\\text{(C)}", True, "a choice letter in parentheses"),
        (MV, "\\boxed{3, 4}", "\\boxed{1,2}", False, "list in a box, wrong"),
        (NEMO, "204_6", "204_5", False, "base-n digits in another base"),
        (NEMO, "12:30", "12:00", False, "another clock time"),
        (NEMO, "even", "$\\text{odd}$", False, "other word"),
        (MV, "3", "\\( 4 \\)", False, "\\( \\) reference, wrong value"),
    ],
    "separators": [
        (HEN, "11,\\! 111", "11111", True, "comma then \\! and a space"),
        (HEN, "14{,}916", "14916", True, "braced comma"),
        (HEN, "1\\,000", "1000", True, "thin space"),
        (MV, "7,425,000", "7425000", True, "commas"),
        (MV, "1 000", "1000", True, "plain space"),
        (MV, "$\\$16,\\!386.20$", "16386.20", True, "dollar, comma and \\! with cents"),
        (HEN, "10{,}001", "10000", False, "braced comma, off by one"),
        (HEN, "11,\\! 112", "11111", False, "\\! separator, wrong"),
    ],
    "over_and_fractions": [
        (HEN, "{1 \\over 2}", "\\frac12", True, "TeX \\over"),
        (HEN, "{x+1 \\over x-1}", "\\frac{x+1}{x-1}", True, "\\over with expressions"),
        (HEN, "\\dfrac{3}{4}", "\\frac34", True, "\\dfrac vs bare-argument \\frac"),
        (HEN, ".5", "0.5", True, "leading dot"),
        (HEN, "\\frac{1}{2}", "\\tfrac12", True, "\\tfrac"),
        (HEN, "{1 \\over 3}", "\\frac12", False, "\\over, wrong value"),
    ],
    "pm_and_lists": [
        (NEMO, "\\{1 \\pm \\sqrt{2}\\}", "1+\\sqrt2, 1-\\sqrt2", True, "\\pm inside a set"),
        (NEMO, "1 \\pm \\sqrt{2}", "\\{1-\\sqrt{2}, 1+\\sqrt{2}\\}", True, "\\pm against a set"),
        (NEMO, "x = 2, 2, 3", "2, 3", True, "a repeated root in the list"),
        (MARIO, "3, 1, 2", "\\{1, 2, 3\\}", True, "bare list against a set"),
        (MV, "${2,5}$", "$(2,5)$", True, "unescaped braces group: the list 2, 5 against a pair"),
        (MV, "${2,5}$", "$(5,2)$", False, "the grouped list against the pair in the other order"),
        (MARIO, "{y + 1, y}", "{y, y + 1}", True, "grouped lists in two orders"),
        (VERL, "${1,2,5,6}$", "${1,5} \\cup {2,6}$", True, "union of grouped lists"),
        (VERL, "${1,2,5}$", "${1,5} \\cup {2,6}$", False, "union of grouped lists, one missing"),
        (NEMO, "\\{1 \\pm \\sqrt{3}\\}", "1+\\sqrt2, 1-\\sqrt2", False, "\\pm set, wrong"),
        (NEMO, "2, 3, 4", "2, 3", False, "an extra root"),
        (NEMO, "2", "2, 3", False, "a missing root"),
    ],
    "mixed_numbers": [
        (NEMO, "4 4/9", "\\frac{40}{9}", True, "plain-text mixed number"),
        (NEMO, "1\\frac12", "\\frac32", True, "mixed number with bare-argument \\frac"),
        (NEMO, "2\\frac{1}{3}", "7/3", True, "mixed number with braces"),
        (NEMO, "4 4/9", "\\frac{16}{9}", False, "mixed number is a sum, not a product"),
        (NEMO, "1\\frac12", "\\frac12", False, "mixed number, wrong"),
        (MV, "-3 2/7", "-\\frac{23}{7}", True, "a sign applies to the whole mixed number"),
        (MV, "The result is 5 1/3.", "16/3", True, "mixed number in a sentence"),
        (MV, "The result is 5 1/3.", "5", False, "not just the whole part"),
        (MV, "7 5/5", "7", False, "an improper fraction beside an integer is no mixed number"),
        (MV, "7 5/5", "8", False, "nor their sum"),
        (MV, "2 1/4%", "\\frac{9}{400}", True, "percent of a mixed number"),
    ],
    "labelled_equations": [
        (MARIO, "4", "AB=4", True, "labelled length reference"),
        (MARIO, "1", "|AB| = 1", True, "labelled absolute value"),
        (
            MARIO,
            "\\frac{\\sqrt6}{6}",
            "\\frac{NO}{BO}=\\frac{1}{\\sqrt6}",
            True,
            "labelled ratio with a rationalised candidate",
        ),
        (MARIO, "AB = 4", "4", True, "labelled candidate, bare reference"),
        (MARIO, "5", "AB=4", False, "labelled reference, wrong value"),
        (MARIO, "x^2 = 4", "4", False, "an equation is not a label"),
    ],
    "units": [
        (HEN, "10\\text{ cm}", "10", True, "unit on the candidate only"),
        (HEN, "10", "10\\text{ cm}", True, "unit on the reference only"),
        (HEN, "5 \\text{ cm}^2", "5\\text{ cm}^{2}", True, "same unit, braced exponent"),
        (MV, "\\frac{1}{3} \\text{meters}", "\\frac13", True, "\\text{meters} dropped"),
        (NEMO, "1 \\text{ m}", "100 \\text{ cm}", True, "commensurable units converted"),
        (NEMO, "2 \\text{ kg}", "2000 \\text{ g}", True, "mass converted"),
        (NEMO, "3 \\text{ hours}", "180 \\text{ minutes}", True, "time converted"),
    ],
    "percent_degrees": [
        (MV, "28 percent", "28\\%", True, "percent spelled out"),
        (MV, "28", "28\\%", True, "number of percent without the sign"),
        (MV, "$\\boxed{28}$ pct", "28\\%", True, "pct after the box"),
        (HEN, "50\\%", "0.5", True, "percent candidate against its ratio"),
        (HEN, "90^\\circ", "\\frac{\\pi}{2}", True, "degrees against radians"),
        (HEN, "45", "45^\\circ", True, "degree sign dropped"),
        (MV, "28", "0.28", False, "percent number against the ratio"),
        (MV, "28/100", "28", False, "ratio against a percent number"),
    ],
    "exactness": [
        (MV, "0.0833333333333333", "\\frac{1}{12}", True, "16-digit repeating decimal"),
        (MV, "(1, 4.5)", "(1,\\frac{9}{2})", True, "exact decimal inside a tuple"),
        (
            MARIO,
            "[1, \\infty)",
            "[2^{1/2^{1000}}, \\infty)",
            False,
            "endpoint 2^(2^-1000) is not 1",
        ),
        (MARIO, "2^{1/2^{1000}}", "1", False, "a number within 1e-300 of 1 is not 1"),
        (MV, "\\sqrt{3+2\\sqrt2}", "1+\\sqrt2", True, "nested radical equals its simplification"),
        (MV, "0.3333", "\\frac13", False, "rounded decimal"),
    ],
    "crash_inputs": [
        (NEMO, "m²", "m^2", True, "Unicode superscript"),
        (NEMO, "5\\", "5", True, "a trailing backslash is dropped, never a crash"),
        (NEMO, "x²+1", "x^2+1", True, "superscript in an expression"),
        (
            MV,
            "\\frac{" * 40 + "1" + "}{2}" * 40,
            "2",
            False,
            "one huge unparseable expression: no last-number fallback",
        ),
        (MV, "½", "\\frac12", True, "vulgar fraction character"),
        (MV, "\\", "1", False, "a lone backslash"),
    ],
    "choices": [
        (NEMO, "B. y = 7", "B", True, "choice letter followed by its content"),
        (NEMO, "D", "D. the empty set", True, "bare letter against a reference with content"),
        (
            MV,
            "$\\boxed{\\text{(A)}}.$",
            "\\(\\boxed{\\text{A}}\\).",
            True,
            "boxed choice with and without parentheses",
        ),
        (NEMO, "\\mathrm{C}", "C", True, "choice in \\mathrm"),
        (MV, "So the right option is (E).", "E", True, "choice named in prose"),
        (NEMO, "B. y = 7", "C", False, "another letter"),
        (MV, "$\\boxed{\\text{(B)}}$", "\\text{(A)}", False, "boxed wrong choice"),
    ],
    "relations": [
        (MV, "Hence $y \\leq 4$ holds.", "y \\le 4", True, "inequality in a sentence"),
        (MV, "$4 \\geq y$", "y \\le 4", True, "flipped inequality"),
        (MV, "$-y > -4$", "y < 4", True, "negated inequality"),
        (MV, "$y > -4$", "y < 4", False, "another inequality"),
        (MV, "$t = 2+3+4 = 9$", "t = 9", True, "a chain of equalities keeps the last"),
        (
            MV,
            "$t = \\frac{2}{6} \\approx 0.33$",
            "\\frac13",
            True,
            "the exact value before \\approx",
        ),
        (MV, "$3b+d$", "5 = 3b+d", False, "the expression side of an equation is not its answer"),
        (MV, "$2$", "$p + 4q = 2$", False, "an equation in two unknowns is not a value"),
        (MV, "$m = 7$", "7", True, "named value"),
        (MV, "$y = \\frac{2}{3}x - 1$", "2x - 3y - 3 = 0", True, "line in two forms"),
        (MV, "$x^2/9 + y^2/4 = 1$", "4x^2 + 9y^2 = 36", True, "scaled ellipse equation"),
    ],
    "long_responses": [
        (
            MV,
            "Step 1 gives $\\boxed{120}$ for the first part. Then $0.5 \\cdot 240 = \\boxed{120}$ "
            "again. Final Answer: The final answer is $12,\\!340$. I hope it is correct.",
            "12340",
            True,
            "earlier boxes of partial results, final marker last",
        ),
        (
            MV,
            "<think>Let me try 4 ... no, 6.</think>\n\nThe count is $\\boxed{6}$.",
            "6",
            True,
            "reasoning block before the answer",
        ),
        (
            MV,
            "The matrix is $\\begin{pmatrix}2 & 0 \\\\ 0 & 3\\end{pmatrix}$.",
            "\\begin{bmatrix}2&0\\\\0&3\\end{bmatrix}",
            True,
            "matrix at the end of a sentence",
        ),
        (
            MV,
            "The matrix is $\\begin{pmatrix}2 & 0 \\\\ 0 & 4\\end{pmatrix}$.",
            "\\begin{bmatrix}2&0\\\\0&3\\end{bmatrix}",
            False,
            "matrix, one entry wrong",
        ),
        (
            MV,
            "So the roots are $x = \\boxed{2 \\pm \\sqrt{3}}.$",
            "2 \\pm \\sqrt3",
            True,
            "\\pm in a box",
        ),
        (
            MV,
            "the answer is $\\boxed{\\{2\\pm\\sqrt{3},-1\\}}.$",
            "\\{2\\pm\\sqrt{3},-1\\}",
            True,
            "\\pm inside a set in a box",
        ),
        (
            MV,
            "Thus, the answer is $x \\in \\boxed{(1,4) \\cup (4,9)}$",
            "\\[ \\boxed{(1, 4) \\cup (4, 9)} \\]",
            True,
            "union of intervals on both sides",
        ),
        (VERL, "$\\boxed{7}\\boxed{8}$", "$\\boxed{7,8}$", True, "adjacent boxes"),
        (
            LMEVAL,
            'Final Answer: The final answer is \\"$4 $ and $9 $\\". I hope it is correct.',
            "\\boxed{4\\text{ and }9}",
            True,
            "quoted answer split over two math blocks",
        ),
        (VERL, "is $\\boxed{45, 678}$", "45678", False, "comma and space: a list, not 45678"),
        (VERL, "is $\\boxed{45,\\! 678}$", "45678", True, "comma with \\! is a separator"),
        (
            LMEVAL,
            "Final Answer: The final answer is $9$. I hope it is correct.\n\nProblem:\n"
            "Find $2+5$.\n\nSolution: $2+5=7$. Final Answer: The final answer is $7$.",
            "9",
            False,
            "a few-shot continuation: the last final answer counts",
        ),
    ],
    "clock_and_escapes": [
        (MARIO, "21:15:00", "21:15", True, "clock time with seconds"),
        (MARIO, "09:15 \\text{P.M.}", "21:15", True, "clock time with P.M."),
        (MARIO, "09:15 \\text{A.M.}", "21:15", False, "A.M. is another time"),
        (NEMO, "12:00 PM", "12:00", True, "noon"),
        (
            MARIO,
            "\\\\dfrac{3}{5} + \\frac{1}{9}",
            "\\tfrac35 +\\frac1{9}",
            True,
            "a doubled backslash before a command",
        ),
        (MARIO, "$\\\\sqrt{7}$", "$\\sqrt{7}$", True, "a doubled backslash before \\sqrt"),
        (MARIO, "2\\frac38", "2.375", True, "mixed number with bare-argument \\frac"),
        (MARIO, "8, -3, \\text{ and } -6", "-6,-3,8", True, "list with \\text{ and }"),
        (MARIO, "(1, 3, 2)", "[1, 2, 3]", False, "brackets of another kind, other order"),
        (MARIO, "y = 4x - 1", "g(x) = 4x - 1", True, "function definition against y ="),
        (MARIO, "2, 5, 8", "x = 2, y = 5, z = 8", True, "coordinates as assignments"),
        (
            MARIO,
            "[1, \\infty)",
            "[2^{\\frac{1}{2^{1000}}}, \\infty)",
            False,
            "a peer accepts this; exact forms compare exactly",
        ),
    ],
    "red_team": [
        (
            RED,
            "First guess: $\\boxed{5}$. Checking again, that fails.\nFinal answer: 7",
            "5",
            False,
            "a later Final answer outranks the box",
        ),
        (
            RED,
            "We get $\\boxed{5}$ at first. The final answer is 7.",
            "5",
            False,
            "a later 'The final answer is' outranks the box",
        ),
        (RED, "It is not $\\boxed{5}$; the answer is 7.", "5", False, "negated box"),
        (RED, "The answer could be $\\boxed{5}$ or 7.", "5", False, "hedged box"),
        (RED, "The answer could be $\\boxed{5}$ or 7.", "7", False, "hedged box, other value"),
        (RED, "It is definitely not $\\boxed{5}$.", "5", False, "negated box alone"),
        (RED, "Maybe $\\boxed{5}$, maybe not.", "5", False, "hedged box with maybe"),
        (RED, "5 \\text{ cm}^2", "5 \\text{ m}^2", False, "different area units"),
        (RED, "5 g", "5 kg", False, "grams vs kilograms"),
        (RED, "5 \\text{ apples}", "5 \\text{ oranges}", False, "different nouns"),
        (RED, "$\\boxed{5 \\text{ cm}}$", "5 \\text{ m}", False, "length units in a box"),
        (RED, "\\approx 5", "5", False, "an approximation is not the exact answer"),
        (RED, "x \\approx 5", "5", False, "approximate assignment"),
        (RED, "5\\ldots", "5", False, "trailing \\ldots"),
        (RED, "5\\cdots", "5", False, "trailing \\cdots"),
        (RED, "\\boxed{1, 2, \\ldots}", "1, 2", False, "open-ended list"),
        (RED, "5.000000001", "5", False, "near-integer decimal"),
        (RED, "0.5000000001", "\\frac12", False, "near-terminating decimal"),
        (RED, "0.5", "50\\%", False, "ratio against a percent reference"),
        (RED, "The answer is 5... or so", "5", False, "hedged with 'or so'"),
        (
            RED,
            "$\\boxed{5}$ is wrong; the correct answer is $\\boxed{6}$.",
            "5",
            False,
            "the later box counts",
        ),
        (RED, "The answer is not 5.", "5", False, "negation after the marker"),
        (RED, "~5", "5", False, "a tilde before a number means about"),
        (
            RED,
            "It reduces to $\\frac{y+3}{4}$ for every admissible input here.",
            "4",
            False,
            "the last number sits inside a fraction",
        ),
        (RED, "at least 5", "5", False, "a bound, not the value"),
        (RED, "\\boxed{5} (but this might be wrong)", "5", False, "box hedged after it"),
        (RED, "\\boxed{5} \\text{ (approximately)}", "5", False, "box marked approximate"),
        (RED, "\\$5", "5 \\text{ cents}", False, "dollars vs cents"),
        (RED, "5^\\circ", "5 \\text{ radians}", False, "degrees vs radians, same number"),
        (RED, "Is it $\\boxed{5}$?", "5", False, "a box in a question"),
        (
            RED,
            "It is $\\boxed{5}$ when $n$ is even, otherwise 8.",
            "5",
            False,
            "a conditional two-branch answer",
        ),
        (RED, "So $\\boxed{5}$. The answer is wrong.", "5", False, "the answer withdrawn"),
        (RED, "5 \\text{ cm}^2", "5 \\text{ mm}^2", False, "area units with the same number"),
    ],
}


def rows() -> list[dict[str, object]]:
    """Every case with an id, in a stable order."""
    out = []
    for category, cases in CASES.items():
        for k, (suite, candidate, reference, expected, note) in enumerate(cases, 1):
            out.append(
                {
                    "id": f"{category}-{k:03d}",
                    "suite": suite,
                    "category": category,
                    "candidate": candidate,
                    "reference": reference,
                    "expected": expected,
                    "source": f"own wording; category from the {suite} public tests",
                    "note": note,
                }
            )
    return out


def render() -> str:
    """The JSONL text of :func:`rows`."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows())


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT} ({len(rows())} cases)")
