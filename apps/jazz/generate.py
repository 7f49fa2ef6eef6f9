"""`generate`: write jazz solos as MIDI files (and piano-roll PNGs) from a model folder.

Method
------
1. Everything that can be checked without the network is checked first (the model folder,
   the output files, the primer), so a bad request fails in well under a second and leaves
   nothing behind.
2. The primer (optional) is read like a training file (`read_monophonic`, quantized, tokenized)
   and its tokens are forced at the start of every solo: the model conditions on them and
   then continues.
3. `zoo.builders.sampler` runs the trained LSTM with fed-back outputs in one compiled loop for
   all solos at once: at each step the next token is drawn from softmax(logits / temperature)
   (Gumbel-max, seeded: the same seed gives the same tokens), or with --argmax the most likely
   token is taken, as the course's jazz inference does.  <UNK> is never drawn.
4. Note tokens are decoded with `decode_tokens` (a broken pitch/duration alternation is
   skipped); course values are turned into notes against the Metheny chords and the course's
   accompaniment is added (`values_to_stream`).  With --bars the solo is cut at that bar line.
5. All files are written atomically; if one fails, those this call already wrote are removed.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from apps.jazz import note_tokens
from apps.jazz.config import GenerateConfig
from apps.jazz.errors import JazzUsageError
from apps.jazz.midi_io import NoteEvent, read_monophonic
from apps.jazz.model import ModelFolder, read_model_folder

TOKENS_PER_BAR_BUDGET = 48  # --bars: tokens generated per bar before cutting (24 notes a bar)
MAX_STEPS = 20_000


@dataclass
class Solo:
    """One generated solo: its tokens, its melody, and (course tokens) a music21 score to write."""

    tokens: list[str]
    melody: list[NoteEvent]
    score: object = None


def output_paths(out: str | Path, count: int) -> list[tuple[Path, Path]]:
    """(MIDI, PNG) paths: out and out.png, or <stem>_1<suffix> ... for several solos."""
    out = Path(out)
    if out.suffix.lower() not in (".mid", ".midi"):
        out = out.with_name(out.name + ".mid")
    if count == 1:
        midis = [out]
    else:
        midis = [out.with_name(f"{out.stem}_{index}{out.suffix}") for index in range(1, count + 1)]
    return [(midi, midi.with_suffix(".png")) for midi in midis]


def check_request(config: GenerateConfig, folder: ModelFolder) -> None:
    if config.count < 1:
        raise JazzUsageError(f"--count must be at least 1, got {config.count}")
    if not config.argmax and not (config.temperature > 0 and math.isfinite(config.temperature)):
        raise JazzUsageError(f"--temperature must be a number above 0, got {config.temperature}")
    if config.length is not None and config.length < 1:
        raise JazzUsageError(f"--length must be at least 1 token, got {config.length}")
    if config.bars is not None and config.bars < 1:
        raise JazzUsageError(f"--bars must be at least 1, got {config.bars}")
    if config.tempo is not None and not config.tempo > 0:
        raise JazzUsageError(f"--tempo must be above 0 beats per minute, got {config.tempo}")
    if config.bars is not None and folder.token_kind != "notes":
        raise JazzUsageError("--bars works with note-token models; use --length (values) here")


def check_outputs(paths: list[tuple[Path, Path]], *, force: bool, pianoroll: bool) -> None:
    """Refuse existing outputs (without force) and missing output folders, before any work."""
    for midi, png in paths:
        if not midi.parent.is_dir():
            raise JazzUsageError(f"output folder not found: {midi.parent} (create it first)")
        for path in (midi, png) if pianoroll else (midi,):
            if path.exists() and not force:
                raise JazzUsageError(f"output file exists: {path} (pass --force to overwrite it, "
                                     "or choose another --out)")
            if path.is_dir():
                raise JazzUsageError(f"output path is a folder: {path}")


def steps_for(config: GenerateConfig, folder: ModelFolder) -> int:
    if config.length is not None:
        return config.length
    if config.bars is not None:
        return min(config.bars * TOKENS_PER_BAR_BUDGET, MAX_STEPS)
    return int(folder.info.get("default_length", 400))


def primer_ids(path: str | Path, folder: ModelFolder, steps: int,
               bars: int | None = None) -> list[int]:
    """The token ids of a primer MIDI file; errors name the file."""
    if folder.token_kind != "notes":
        raise JazzUsageError(f"--primer works with note-token models; {folder.path} generates "
                             "course values")
    tokens = note_tokens.encode_solo(read_monophonic(path))
    unknown = sorted({token for token in tokens if token not in folder.tokenizer})
    if unknown:
        raise JazzUsageError(f"primer has tokens the model does not know: {path} "
                             f"({', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''})")
    if len(tokens) >= steps:
        raise JazzUsageError(f"primer too long: {path} ({len(tokens)} tokens, but the solo is "
                             f"{steps} tokens; raise --length or shorten the primer)")
    if bars is not None:
        quarters = sum(event.duration for event in note_tokens.decode_tokens(tokens))
        if quarters >= 4 * bars:
            raise JazzUsageError(f"primer too long: {path} ({quarters / 4:.1f} bars, but the solo "
                                 f"is {bars} bars; raise --bars or shorten the primer)")
    return folder.tokenizer.encode(tokens)


def sample_ids(network, steps: int, forced: np.ndarray, *, temperature: float, argmax: bool,
               top_k: int | None, seed: int) -> np.ndarray:
    """(count, steps) token ids from `zoo.builders.sampler`, in one compiled loop."""
    import tensorflow as tf

    from zoo.builders import sampler

    generator = sampler(network, steps, sampling="argmax" if argmax else "softmax", top_k=top_k,
                        banned_ids=(0,), seed=seed)
    run = tf.function(lambda inputs: generator(inputs, training=False))
    outputs = run({"forced": tf.constant(forced, tf.int32),
                   "temperature": tf.fill([forced.shape[0]], float(temperature))})
    return np.asarray(outputs["ids"])


def cut_at_bars(events: list[NoteEvent], bars: int, beats_per_bar: int = 4) -> list[NoteEvent]:
    end = bars * beats_per_bar
    cut = []
    for event in events:
        if event.onset >= end:
            break
        cut.append(NoteEvent(event.pitch, event.onset, min(event.duration, end - event.onset)))
    return cut


def decode_solo(ids, folder: ModelFolder, config: GenerateConfig, index: int,
                tempo: float) -> Solo:
    tokens = folder.tokenizer.decode(ids)
    if folder.token_kind == "notes":
        melody = note_tokens.decode_tokens(tokens)
        if config.bars is not None:
            melody = cut_at_bars(melody, config.bars)
        return Solo(tokens, melody)
    from apps.jazz import course_tokens

    values = [token for token in tokens if token != folder.tokenizer.UNKNOWN]
    realization = course_tokens.realize_values(values, folder.course_corpus,
                                               seed=config.seed + index)
    score = course_tokens.values_to_stream(values, folder.course_corpus, seed=config.seed + index,
                                           tempo_bpm=tempo)
    return Solo(tokens, realization.melody, score)


def write_solo(solo: Solo, midi: Path, png: Path, *, tempo: float, force: bool,
               pianoroll: bool, title: str, written: list[Path]) -> None:
    from apps.jazz.midi_io import write_midi
    from apps.jazz.pianoroll import save_pianoroll

    write_midi(solo.score if solo.score is not None else solo.melody, midi, tempo_bpm=tempo,
               force=force)
    written.append(midi)
    _usual_permissions(midi)
    if pianoroll:
        save_pianoroll(solo.melody, png, title=title, force=force)
        written.append(png)
        _usual_permissions(png)


def _usual_permissions(path: Path) -> None:
    """rw for everyone the umask allows, as `open` would give (the atomic writer's temporary
    file is private, mode 600)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def generate(config: GenerateConfig, *, log=print) -> list[Path]:
    """Write `config.count` solos; returns the MIDI paths.  Nothing is left behind on failure."""
    folder = read_model_folder(config.checkpoint)
    check_request(config, folder)
    paths = output_paths(config.out, config.count)
    check_outputs(paths, force=config.force, pianoroll=config.pianoroll)
    steps = steps_for(config, folder)
    forced = np.full((config.count, steps), -1, np.int32)
    if config.primer is not None:
        primer = primer_ids(config.primer, folder, steps, config.bars)
        forced[:, :len(primer)] = primer
    tempo = (config.tempo or folder.info.get("tempo_bpm")
             or (folder.course_corpus.tempo_bpm if folder.course_corpus is not None else 120.0))

    from apps.common.training import describe_device  # imports TensorFlow

    log(describe_device())
    started = time.perf_counter()
    network = folder.load_network()
    loaded = time.perf_counter()
    ids = sample_ids(network, steps, forced, temperature=config.temperature, argmax=config.argmax,
                     top_k=config.top_k, seed=config.seed)
    sampled = time.perf_counter()
    log(f"generated {config.count} solo{'s' if config.count > 1 else ''} of {steps} tokens in "
        f"{sampled - loaded:.2f} s (model loaded in {loaded - started:.2f} s)")
    solos = [decode_solo(row, folder, config, index, tempo) for index, row in enumerate(ids)]
    for index, solo in enumerate(solos):
        if not any(not event.is_rest for event in solo.melody):
            raise JazzUsageError(f"solo {index + 1} has no notes (the model drew only rests); "
                                 "try another --seed or a lower --temperature")
    how = "argmax" if config.argmax else f"temperature {config.temperature:g}"
    written: list[Path] = []
    try:
        for index, (solo, (midi, png)) in enumerate(zip(solos, paths)):
            write_solo(solo, midi, png, tempo=tempo, force=config.force,
                       pianoroll=config.pianoroll, written=written,
                       title=f"{midi.name}: {how}, seed {config.seed}"
                             + (f", solo {index + 1}" if config.count > 1 else ""))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    for (midi, png), solo in zip(paths, solos):
        notes = sum(1 for event in solo.melody if not event.is_rest)
        bars = max((event.end for event in solo.melody), default=0) / 4
        log(f"wrote {midi} ({notes} notes, {bars:.1f} bars at {tempo:g} bpm)"
            + (f" and {png}" if config.pianoroll else ""))
    return [midi for midi, _ in paths]
