"""`tag`: find the named entities of raw text with a trained tagger.

Each text is tokenized as CoNLL-2003 is (apps.ner.tokenize: punctuation and clitics split off,
every token a slice of the text), cut into sentences (apps.ner.tokenize.sentence_spans; the
tagger was trained on sentences, and a paragraph tagged as one sequence loses about 2 points of
F1), and each sentence is tagged whole, whatever its length (no truncation; very long words are
shortened for the character features only). With split_sentences=False (`--no-split`) each
text is tagged as one sequence.

Output, default format "entities": one line per entity, `text<TAB>TYPE<TAB>start-end`, with
character offsets into the text (end exclusive: text[start:end] is the entity), or
`(no entities)`; with several texts each block starts with `# text N: ...`.
Format "conll": one `token<TAB>tag` line per token (IOB2), a blank line after each sentence.
Format "json": one JSON object per text and line (JSON Lines): label, text, entities (text,
type, start, end), sentences ([first, stop) token ranges), tokens (token, start, end, tag).

Errors: no text at all, or a text with nothing but white space, is a one-line error naming it.
In --file, one text per line; blank lines are skipped (a file with no text is an error). With
--paragraphs, each run of non-blank lines is one text instead (an article whose sentences are
wrapped over several lines), labelled by its first line.
"""
import json
from pathlib import Path

from apps.common.errors import UserError
from apps.ner.predict import predict_tags_in_pieces
from apps.ner.tokenize import sentence_spans, spans_from_tags, tokenize

FORMATS = ("entities", "conll", "json")


def read_texts(texts=(), file=None, *, paragraphs=False) -> list:
    """(label, text) pairs: the command-line texts, then the non-blank lines of `file` (labelled
    FILE:LINE), or with paragraphs=True its paragraphs: runs of non-blank lines, joined by their
    line breaks, labelled by their first line (offsets then count from the paragraph's start)."""
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
        file_items = join_paragraphs(lines) if paragraphs else \
            [(label, line) for label, line in lines if line.strip()]
        if not file_items:
            raise UserError(f"{path} holds no text to tag (it is empty or blank)")
        items.extend(file_items)
    if not items:
        raise UserError('give a text to tag, e.g. tag "Harry Potter and Hermione Granger '
                        'invented a new spell.", or --file FILE')
    return items


def join_paragraphs(lines) -> list:
    """(label of its first line, its lines joined by line breaks) of each run of non-blank
    lines."""
    paragraphs, current = [], []
    for label, line in lines + [("", "")]:
        if line.strip():
            current.append((label, line))
        elif current:
            paragraphs.append((current[0][0], "\n".join(text for _, text in current)))
            current = []
    return paragraphs


def tag_texts(trained, items, *, split_sentences=True) -> list:
    """For each (label, text): {"label", "text", "tokens", "sentences", "tags", "entities"};
    "sentences" are the (first, stop) token ranges tagged one by one (the whole text as one
    range with split_sentences=False)."""
    tokenized, sentence_lists = [], []
    for label, text in items:
        tokens = tokenize(text)
        if not tokens:
            raise UserError(f"{label} is empty (nothing but white space); give some text to tag")
        tokenized.append(tokens)
        sentence_lists.append(sentence_spans(tokens, text) if split_sentences
                              else [(0, len(tokens))])
    tag_lists = predict_tags_in_pieces(
        trained, [[token.token for token in tokens] for tokens in tokenized], sentence_lists)
    return [{"label": label, "text": text, "tokens": tokens, "sentences": sentences,
             "tags": tags, "entities": spans_from_tags(tokens, tags, text)}
            for (label, text), tokens, sentences, tags
            in zip(items, tokenized, sentence_lists, tag_lists)]


def format_results(results, output_format="entities") -> str:
    if output_format not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}; received {output_format!r}")
    lines = []
    for result in results:
        if output_format == "json":
            lines.append(json.dumps(json_record(result), ensure_ascii=False))
            continue
        if output_format == "conll":
            for first, stop in result["sentences"]:
                lines.extend(f"{token.token}\t{tag}" for token, tag in
                             zip(result["tokens"][first:stop], result["tags"][first:stop]))
                lines.append("")
            continue
        if len(results) > 1:
            header = " ".join(result["text"].split("\n"))    # a paragraph on one line
            lines.append(f"# {result['label']}: {header}")
        for entity in result["entities"]:
            lines.append(f"{entity['text']}\t{entity['type']}\t{entity['start']}-{entity['end']}")
        if not result["entities"]:
            lines.append("(no entities)")
    return "\n".join(lines)


def json_record(result) -> dict:
    """A tag result as plain JSON values: label, text, entities, sentences, tokens with tags."""
    return {"label": result["label"], "text": result["text"],
            "entities": [dict(entity) for entity in result["entities"]],
            "sentences": [list(span) for span in result["sentences"]],
            "tokens": [{"token": token.token, "start": token.start, "end": token.end, "tag": tag}
                       for token, tag in zip(result["tokens"], result["tags"])]}
