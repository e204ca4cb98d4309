import pytest

from publisher.content.markup import markdown_to_text, render_markdown, strip_xml_illegal

BASE = "https://blog.example.com/2025/09/21/post.html"


@pytest.mark.parametrize(
    ("markdown", "present", "absent"),
    [
        ("<script>alert(1)</script>after", ["after"], ["<script", "alert"]),
        ("<style>p{color:red}</style>after", ["after"], ["<style", "color:red"]),
        ('<p onclick="alert(1)">hi</p>', ["<p>hi</p>"], ["onclick", "alert"]),
        ('<img src="x.png" onerror="alert(1)">', ["<img"], ["onerror"]),
        ("[x](javascript:alert(1))", [], ['href="javascript']),
        ('<a href="javascript:alert(3)">x</a>', [">x</a>"], ["javascript:"]),
        ('<iframe src="https://evil.example"></iframe>', [], ["<iframe"]),
        # relative links and images become absolute against the post URL
        ("[about](/about/)", ['href="https://blog.example.com/about/"'], []),
        ("[next](next.html)", ['href="https://blog.example.com/2025/09/21/next.html"'], []),
        ("![a](/images/a.png)", ['src="https://blog.example.com/images/a.png"'], []),
        ("[frag](#sec)", ['href="https://blog.example.com/2025/09/21/post.html#sec"'], []),
        ("[abs](https://example.org/x)", ['href="https://example.org/x"'], ["noopener"]),
        # CommonMark + tables + strikethrough
        (
            "| a | b |\n|---|--:|\n| 1 | 2 |",
            ["<table>", "<td>1</td>", 'style="text-align:right"'],
            [],
        ),
        ("~~gone~~", ["<s>gone</s>"], []),
        ("### 見出し\n\n**太字**", ["<h3>見出し</h3>", "<strong>太字</strong>"], []),
        ("```python\nprint('<x>')\n```", ['<code class="language-python">', "&lt;x&gt;"], []),
        ("a\x01b\x0bc", ["abc"], ["\x01", "\x0b"]),
    ],
)
def test_render_markdown(markdown: str, present: list[str], absent: list[str]) -> None:
    html = render_markdown(markdown, BASE)
    for needle in present:
        assert needle in html
    for needle in absent:
        assert needle not in html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok\tline\nnext\r", "ok\tline\nnext\r"),
        ("a\x00b\x08c\x0bd\x0ce\x1ff", "abcdef"),
        ("\ufffe\uffffx", "x"),
        ("emoji 😀 stays", "emoji 😀 stays"),
        ("lone \ud800 surrogate", "lone  surrogate"),
    ],
)
def test_strip_xml_illegal(text: str, expected: str) -> None:
    assert strip_xml_illegal(text) == expected


def test_markdown_to_text_folds_whitespace_and_unescapes() -> None:
    assert markdown_to_text("*a* &lt;b&gt;\n\n  c") == "a <b> c"


def _inputs() -> list[tuple[str, str]]:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = [*root.glob("examples/site/_posts/*.md"), *root.glob("tests/fixtures/posts/*.md")]
    files += sorted((root.parent / "shared" / "sample-posts").glob("*.txt"))
    found = []
    for path in files:
        try:
            found.append((path.name, path.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
    return found


def test_rust_and_python_engines_render_identically() -> None:
    # Bodies render with markdown-it's Rust port for speed; markdown-it-py is the reference.
    pytest.importorskip("markdown_it_pyrs")
    from publisher.content.markup import _body_renderer, python_renderer

    fast, reference = _body_renderer(), python_renderer()
    cases = _inputs() + [
        (f"case{i}", md)
        for i, md in enumerate(
            [
                "<script>x</script>",
                "<div>\n*md*\n</div>",
                "<!-- c -->",
                "* a\n* b\n\n1. x",
                "> q",
                "a  \nb",
                "&copy; &#x1F600;",
                '[r]\n\n[r]: /u "t"',
                "# h\nS\n===",
                "    code",
                "| a |\n|---|\n| 1 |",
                "~~s~~",
            ]
        )
    ]
    assert len(cases) > 40
    for name, text in cases:
        assert fast(text) == reference(text), name
