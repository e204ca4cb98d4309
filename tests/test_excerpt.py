import pytest

from publisher.content.excerpt import cut_excerpt, derive_excerpt, first_paragraph


@pytest.mark.parametrize(
    ("text", "length", "expected"),
    [
        ("短い文。", 10, "短い文。"),
        ("一文目です。二文目はとても長いのでここでは切れません", 10, "一文目です。"),
        ("最初の文。次の文！三つ目の文はずっとずっと長く続いていきます", 12, "最初の文。次の文！"),
        ("本当に？そうです。", 6, "本当に？"),
        ("「引用です。」その後に続く長い長い長い文章があります", 9, "「引用です。」"),
        # no sentence end in the window: cut between CJK characters, add an ellipsis
        ("句点のないとても長い日本語の文章がここにずっと続いていく", 10, "句点のないとても長…"),
        # English: never inside a word
        ("The quick brown fox jumps over the lazy dog", 18, "The quick brown…"),
        ("One sentence here. Another one that is long enough to be cut.", 30, "One sentence here."),
        # "3.5" is not a sentence end
        ("Version 3.5 is out and it is much faster than before", 15, "Version 3.5 is…"),
        ("Supercalifragilisticexpialidocious", 10, "Supercali…"),
        # mixed: an ASCII word inside Japanese text is not split
        ("日本語の中にPreferredNetworksという単語がある", 14, "日本語の中に…"),
    ],
)
def test_cut_excerpt(text: str, length: int, expected: str) -> None:
    got = cut_excerpt(text, length)
    assert got == expected
    assert len(got) <= length


@pytest.mark.parametrize(
    ("body", "title", "separator", "expected"),
    [
        ("タイトル\n\n本文の最初の段落。\n\n二段落目。", "タイトル", "\n\n", "本文の最初の段落。"),
        ("# タイトル\n\n本文。\n\n次。", "タイトル", "\n\n", "本文。"),
        (
            "タイトルとは\n\n本文。",
            "タイトルと？",
            "\n\n",
            "本文。",
        ),  # near-repeat, as in the customer's posts
        ("別の行\n\n本文。", "タイトル", "\n\n", "別の行"),
        ("Intro line one\nline two\n\nSecond.", "Title", "\n\n", "Intro line one\nline two"),
        ("Before<!--more-->After", "T", "<!--more-->", "Before"),
        ("\n\n\nLeading blanks.\n\nNext.", "T", "\n\n", "Leading blanks."),
    ],
)
def test_first_paragraph(body: str, title: str, separator: str, expected: str) -> None:
    assert first_paragraph(body, title, separator) == expected


def test_derive_excerpt_strips_markup_and_entities() -> None:
    body = "Title\n\nA **bold** claim, [a link](https://x.org/?a=1&b=2) &amp; `code`. More text follows.\n\nNext."
    assert derive_excerpt(body, "Title", "\n\n", 200) == (
        "A bold claim, a link & code. More text follows."
    )


def test_derive_excerpt_cut_is_plain_text_not_inside_a_tag() -> None:
    body = "本文は<b>太字の部分がとても長くて</b>ここで切れる。続き。"
    got = derive_excerpt(body, "t", "\n\n", 12)
    assert "<" not in got and "&" not in got
    assert len(got) <= 12
