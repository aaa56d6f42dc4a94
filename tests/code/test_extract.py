from hypothesis import given
from hypothesis import strategies as st

from verifiers.code import extract_code
from verifiers.code.extract import has_fence


def test_last_python_block_wins():
    text = "first\n```python\nx = 1\n```\nthen\n```python\ny = 2\n```\nbye"
    assert extract_code(text) == "y = 2"


def test_python_tag_beats_untagged_and_other_languages_are_ignored():
    text = "```python\nx = 1\n```\n```\nplain = 1\n```\n```bash\nls\n```"
    assert extract_code(text) == "x = 1"
    assert extract_code("```py\nz = 3\n```") == "z = 3"
    assert extract_code("```\nplain = 1\n```") == "plain = 1"


def test_no_code():
    assert extract_code("no fences here") is None
    assert extract_code("```bash\nls\n```") is None
    assert extract_code("```python\n```") is None
    assert extract_code("```python\n   \n```") is None
    assert extract_code(None) is None  # type: ignore[arg-type]


def test_backticks_inside_code_and_longer_fences():
    assert extract_code('```python\nprint("```")\n```') == 'print("```")'
    assert extract_code("````python\na = '```'\n````") == "a = '```'"


def test_has_fence():
    assert has_fence("text\n```python\nx\n```")
    assert not has_fence("def f():\n    return '```'")


@given(st.text(alphabet=st.characters(blacklist_characters="`~\r"), min_size=1).filter(str.strip))
def test_roundtrip_of_a_single_block(code):
    code = code.rstrip()
    assert extract_code(f"Answer:\n```python\n{code}\n```\n") == code
