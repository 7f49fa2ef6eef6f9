"""Character-level language model (Course 5, week 1: "Dinosaurus Island"), as an app.

    config    TrainConfig: the train settings, the course's choices as defaults
    data      reading a text file (names or running text) into sequences and a vocabulary
    train     fit a zoo.builders.language_model with apps.common's resumable training
    saved     the run folder's files; load_run for sample and score
    sample    the course's sampling (softmax draw, feed back, stop at <EOS>) in one compiled loop
    score     log-probability, loss, bits per character and perplexity of texts
    diagnose  vanishing/exploding gradients and a long-range memory task (rnn vs gru vs lstm)

Run `python -m apps.charlm --help`.
"""
