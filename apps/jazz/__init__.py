"""Jazz improvisation with an LSTM (Coursera Deep Learning Specialization, course 5 week 1), done properly.

    python -m apps.jazz generate | train | evaluate      (see apps/jazz/__main__.py)

Data layer:
    errors        JazzDataError, the one error raised for unusable input files; JazzUsageError
    midi_io       NoteEvent; read_monophonic / validate_midi / write_midi (mido; atomic writes)
    note_tokens   pitch + duration tokens for monophonic solos (WJazzD), 12-key transposition
    course_tokens the course's TYPE,duration,<max,min> values from the Metheny file, and back to music
    corpus        load_corpus (cached), split_by_solo, make_windows, JazzTokenizer
    pianoroll     save_pianoroll

Model and commands:
    config        TrainConfig / GenerateConfig and the two presets (default, course)
    model         the zoo language model, its loss, and the model folder (data/jazz) format
    training      train: windows, 12 keys, fit_with_recovery, export of the best epoch
    generate      generate: zoo.builders.sampler, primer, MIDI + piano roll, atomic outputs
    evaluate      evaluate: NLL per token, accuracy, unknown tokens, on any MIDI files
    baselines     unigram / bigram add-k models scored like the LSTM
    stats         generated-vs-real statistics (ranges, intervals, copying, repeated bars)
"""
