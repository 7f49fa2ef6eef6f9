"""Named-entity recognition on CoNLL-2003 (Course 5: many-to-many tagging), as an app.

    config     TrainConfig: the train settings and the literature behind the defaults
    data       reading CoNLL column files (IOB1 -> IOB2, errors with file:line), vocabularies
    tokenize   raw text -> CoNLL-2003-like tokens with character spans; tags -> entity spans
    batching   length-bucketed, resumable training batches and their tf.data datasets
    model      the BiLSTM(-CRF) tagger over word, character and casing features
    metrics    entity F1 inside the train and test steps (f1, val_f1)
    train      fit with apps.common's resumable training; best validation F1, early stopping
    saved      the run folder's files; load_run for evaluate and tag
    predict    a trained tagger over token lists
    evaluate   seqeval precision, recall, F1 per type and an error analysis
    tag        entities of raw text, or CoNLL columns

Run `python -m apps.ner --help`; apps/ner/README.md has the details.
"""
