"""`tag`: find the named entities of raw text with a trained tagger.

Each text is tokenized as CoNLL-2003 is (apps.ner.tokenize: punctuation and clitics split off,
every token a slice of the text) and tagged as one sequence, whatever its length (no sentence
splitting, no truncation; very long words are shortened for the character features only).

Output, default format "entities": one line per entity, `text<TAB>TYPE<TAB>start-end`, with
character offsets into the text (end exclusive: text[start:end] is the entity), or
`(no entities)`; with several texts each block starts with `# text N: ...`.
Format "conll": one `token<TAB>tag` line per token (IOB2), a blank line after each text.

Errors: no text at all, or a text with nothing but white space, is a one-line error naming it.
In --file, one text per line; blank lines are skipped (a file with no text is an error).
"""
from pathlib import Path

from apps.common.errors import UserError
from apps.ner.predict import predict_tags
from apps.ner.tokenize import spans_from_tags, tokenize

FORMATS = ("entities", "conll")


def read_texts(texts=(), file=None) -> list:
    """(label, text) pairs: the command-line texts, then the non-blank lines of `file`."""
    items = [(f"text {index}", text) for index, text in enumerate(texts, start=1)]
    if file is not None:
        path = Path(file)
        data = path.read_bytes()
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            raise UserError(f"{path}:{line}: not UTF-8 text ({error.reason})") from None
        lines = [(f"{path}:{number}", line.rstrip("\r"))
                 for number, line in enumerate(content.lstrip("\ufeff").split("\n"), start=1)]
        file_items = [(label, line) for label, line in lines if line.strip()]
        if not file_items:
            raise UserError(f"{path} holds no text to tag (it is empty or blank)")
        items.extend(file_items)
    if not items:
        raise UserError('give a text to tag, e.g. tag "Harry Potter and Hermione Granger '
                        'invented a new spell.", or --file FILE')
    return items


def tag_texts(trained, items) -> list:
    """For each (label, text): {"label", "text", "tokens", "tags", "entities"}."""
    tokenized = []
    for label, text in items:
        tokens = tokenize(text)
        if not tokens:
            raise UserError(f"{label} is empty (nothing but white space); give some text to tag")
        tokenized.append(tokens)
    tag_lists = predict_tags(trained, [[token.token for token in tokens] for tokens in tokenized])
    results = []
    for (label, text), tokens, tags in zip(items, tokenized, tag_lists):
        results.append({"label": label, "text": text, "tokens": tokens, "tags": tags,
                        "entities": spans_from_tags(tokens, tags, text)})
    return results


def format_results(results, output_format="entities") -> str:
    if output_format not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}; received {output_format!r}")
    lines = []
    for result in results:
        if output_format == "conll":
            lines.extend(f"{token.token}\t{tag}" for token, tag in zip(result["tokens"],
                                                                       result["tags"]))
            lines.append("")
            continue
        if len(results) > 1:
            lines.append(f"# {result['label']}: {result['text']}")
        for entity in result["entities"]:
            lines.append(f"{entity['text']}\t{entity['type']}\t{entity['start']}-{entity['end']}")
        if not result["entities"]:
            lines.append("(no entities)")
    return "\n".join(lines)
