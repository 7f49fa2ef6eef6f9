"""Jazz improvisation with an LSTM (Coursera Deep Learning Specialization, course 5 week 1), done properly.

Data layer:
    errors        JazzDataError, the one error raised for unusable input files
    midi_io       NoteEvent; read_monophonic / validate_midi / write_midi (mido; atomic writes)
    note_tokens   pitch + duration tokens for monophonic solos (WJazzD), 12-key transposition
    course_tokens the course's TYPE,duration,<max,min> values from the Metheny file, and back to music
    corpus        load_corpus (cached), split_by_solo, make_windows, JazzTokenizer
    pianoroll     save_pianoroll
"""
