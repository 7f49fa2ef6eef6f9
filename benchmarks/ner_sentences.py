"""Does `python -m apps.ner tag` need to cut paragraphs into sentences? Entity F1 of a trained
tagger on CoNLL-2003 stories tagged three ways.

    python benchmarks/ner_sentences.py --run-dir DIR [--run-dir DIR2 ...] [--split valid]

The taggers are trained on single sentences, but a user's text is a paragraph or a story. Each
`-DOCSTART-` story of the split is tagged
- "gold sentences": sentence by sentence, as the file cuts them (what `evaluate` does);
- "story as one sequence": all its tokens as one sequence (`tag --no-split`);
- "tokens cut by rule": its tokens cut by apps.ner.tokenize.sentence_spans, the rule `tag`
  uses, from the tokens alone (end punctuation);
- "text cut by rule": the same rule over the story written out as text the way a wire story
  stands: a sentence that ends in . ! ? or ... runs on after a space, any other (a headline, a
  dateline, a table row) ends its line. The rule never sees the file's sentence breaks.

Printed: overall entity F1 (seqeval, as `evaluate`) of each, and how many sentences the rule
found against the file's. Use the validation split to decide; the test split is for final
figures only.
"""
import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python benchmarks/ner_sentences.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", action="append", required=True, metavar="DIR",
                        help="a finished apps.ner run; several make an ensemble, as in tag")
    parser.add_argument("--split", choices=("valid", "test"), default="valid",
                        help="split to score (default: valid)")
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="CoNLL-2003 folder (default: the runs' data folder resolution, "
                             "<repo>/../shared/datasets/conll2003)")
    return parser.parse_args(argv)


def stories(sentences) -> list:
    """[(first sentence, stop)] ranges of consecutive sentences of one document (story)."""
    ranges, first = [], 0
    for index in range(1, len(sentences) + 1):
        if index == len(sentences) or sentences[index].document != sentences[first].document:
            ranges.append((first, index))
            first = index
    return ranges


def story_text(story_sentences):
    """(text, Tokens) of a story written out: tokens joined by spaces, a sentence that ends in
    end punctuation followed by a space, any other by a line break."""
    from apps.ner.tokenize import SENTENCE_ENDS, Token

    text, tokens = "", []
    for index, sentence in enumerate(story_sentences):
        if index:
            ends = [t for t in story_sentences[index - 1].tokens if t not in ('"', "'", ")")]
            text += " " if ends and ends[-1] in SENTENCE_ENDS else "\n"
        for position, token in enumerate(sentence.tokens):
            if position:
                text += " "
            tokens.append(Token(token, len(text), len(text) + len(token)))
            text += token
    return text, tokens


def tokens_of(story) -> list:
    return [token for sentence in story for token in sentence.tokens]


def tag_in_pieces(trained, sentences, ranges, cut):
    """Tags per file sentence, each story tagged in the token ranges `cut(its sentences)` gives."""
    from apps.ner.predict import predict_tags_in_pieces

    pieces = [cut(sentences[first:stop]) for first, stop in ranges]
    story_tags = predict_tags_in_pieces(
        trained, [tokens_of(sentences[first:stop]) for first, stop in ranges], pieces)
    result = []
    for (first, stop), tags in zip(ranges, story_tags):
        position = 0
        for sentence in sentences[first:stop]:
            result.append(tags[position:position + len(sentence)])
            position += len(sentence)
    return result, sum(len(spans) for spans in pieces)


def main(argv=None) -> int:
    arguments = parse_arguments(argv)
    from apps.ner.config import resolve_data_path
    from apps.ner.data import read_conll, split_paths
    from apps.ner.ensemble import load_taggers
    from apps.ner.evaluate import score
    from apps.ner.predict import predict_tags
    from apps.ner.tokenize import sentence_spans

    path = split_paths(resolve_data_path(arguments.data))[arguments.split]
    sentences = read_conll(path)
    ranges = stories(sentences)
    trained = load_taggers(arguments.run_dir)
    gold = [sentence.tags for sentence in sentences]
    print(f"{path}: {len(sentences)} sentences in {len(ranges)} stories; "
          f"runs: {' '.join(arguments.run_dir)}")
    rows = [("gold sentences", predict_tags(trained, [s.tokens for s in sentences],
                                            documents=[s.document for s in sentences]),
             len(sentences))]

    def whole(story):
        return [(0, len(tokens_of(story)))]

    def tokens_cut(story):
        return sentence_spans(tokens_of(story))

    def text_cut(story):
        text, tokens = story_text(story)
        return sentence_spans(tokens, text)

    for name, cut in (("story as one sequence", whole), ("tokens cut by rule", tokens_cut),
                      ("text cut by rule", text_cut)):
        rows.append((name, *tag_in_pieces(trained, sentences, ranges, cut)))
    print(f"{'tagged as':24} {'pieces':>7} {'F1':>7}")
    for name, predicted, pieces in rows:
        f1 = 100 * score(gold, predicted)["overall"]["f1-score"]
        print(f"{name:24} {pieces:7d} {f1:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
