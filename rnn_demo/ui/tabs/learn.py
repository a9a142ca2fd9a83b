"""The Learn tab: the tutorial's ideas tried live — the four RNN shapes as small working models, the hidden
state unrolled, vanishing gradients measured, the embedding space, and the curves of training choices.

Its models load on first use (learn/store.py), and every forward pass is NumPy: the tab imports no TensorFlow.
Its texts, in English and 简体中文, are in learn/text.py (ui/text.py adds them to its STRINGS).
"""
from __future__ import annotations

import html
import logging

import numpy as np

import gradio as gr

from ... import checkpoints
from ...config import InputError
from ...learn import copy_task, embeddings, genres, hidden, scenes, svg
from ...learn.config import COPY_CELLS
from ...learn.store import CHOICES_FILE, COPY_FILE, ROLES_FILE, LearnModels, weights_by_name
from ...models import registry
from ...serving import Engine
from .. import language
from ..handlers import guarded, shown_to_user
from ..text import say, t

log = logging.getLogger(__name__)

TAB_ID = "learn"
LABEL = "learn.tab"
POSITION = 5

MAX_SPEECH_CHARS = 2_000
MAX_SENTENCE_CHARS = 300
MAX_WORD_CHARS = 40
HEATMAP_UNITS = 32
NONE = "none"
NEAR_HEADERS = ("piece", "cosine")  # the nearest-neighbours table's columns (learn/text.py: near.<header>)
ORDERS = ("variance", "activity")  # how the heatmap sorts its units (hidden.order_units)
SHAKESPEARE = registry.DEFAULT_LANGUAGE_MODEL
SPEECH = ("Now is the winter of our discontent\nMade glorious summer by this sun of York;\n"
          "And all the clouds that lour'd upon our house\nIn the deep bosom of the ocean buried.")
SENTENCE = "ROMEO:\nBut soft, what light through yonder window breaks?\n"

def _en(key: str):
    """The Learn text `key` (learn/text.py), for a component, in the visitor's language."""
    return t(f"learn.{key}")


def _say(key: str, visitor: str, **values) -> str:
    """The Learn text `key` written now, in the visitor's language, its `{name}`s filled from `values`."""
    return say(f"learn.{key}", visitor, **values)


def _choices(values) -> list[tuple]:
    """Dropdown or radio choices: each value (the models' own English word) shown in the visitor's language."""
    return [(t(f"learn.choice.{value}"), value) for value in values]


def _checked_text(text, what: str, limit: int, visitor: str) -> str:
    """`text` if it is non-blank text of at most `limit` characters (InputError in the visitor's words otherwise)."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(_say("error.empty", visitor, what=_say(f"what.{what}", visitor)))
    if len(text) > limit:
        raise InputError(_say("error.too_long", visitor, what=_say(f"what.{what}", visitor), count=len(text),
                              limit=limit))
    return text


def build(engine: Engine) -> None:
    """The tab's five sections, each its own sub-tab."""
    learn = LearnModels(engine)
    gr.Markdown(_en("intro"))
    with gr.Tabs(elem_id="learn-tabs"):
        with gr.Tab(_en("shapes"), id="learn-shapes"):
            _shapes(learn)
        with gr.Tab(_en("unrolled"), id="learn-unrolled"):
            _unrolled(learn)
        with gr.Tab(_en("gradients"), id="learn-gradients"):
            _gradients(learn)
        with gr.Tab(_en("embeddings"), id="learn-embeddings"):
            _embeddings(learn)
        with gr.Tab(_en("choices"), id="learn-choices"):
            _training_choices(learn)


# --- the four shapes ------------------------------------------------------------------------------

DIAGRAMS = {  # shape: words in its (input, rnn, output) boxes; "GRU" and "MLP" are names, the same in both
    "one-to-many": ("img", "GRU", "word"), "many-to-one": ("tok", "GRU", "genre"),
    "one-to-one": ("mean", "MLP", "genre"), "many-to-many": ("tok", "GRU", "next")}


DIAGRAM_WIDTH = 320  # px: a four-step diagram's width (svg.shape_diagram)


def _diagram(shape: str) -> gr.HTML:
    """An empty place for the shape's diagram, drawn at each page load in the visitor's language."""
    return gr.HTML(elem_classes=["learn-diagram"], elem_id=f"learn-diagram-{shape}")


def _draw_diagrams(request: gr.Request | None = None) -> list[str]:
    """The four diagrams (in DIAGRAMS' order), their words in the visitor's language."""
    visitor = language.of(request)
    drawn = []
    for shape, words in DIAGRAMS.items():
        labels = [word if word in ("GRU", "MLP") else _say(f"diagram.{word}", visitor) for word in words]
        drawn.append(svg.shape_diagram(shape, dict(zip(("input", "rnn", "output"), labels)),
                                       title=_say(f"diagram.{shape}", visitor)))
    return drawn


def _shapes(learn: LearnModels) -> None:
    gr.Markdown(_en("shapes_help"))
    gr.Markdown(_en("one_to_many"))
    with gr.Row():
        diagrams = {"one-to-many": _diagram("one-to-many")}
        with gr.Column():
            shape = gr.Dropdown(_choices(scenes.SHAPES), value="circle", label=_en("shape"))
            colour = gr.Dropdown(_choices(scenes.COLOURS), value="red", label=_en("colour"))
            place = gr.Dropdown(_choices(scenes.PLACES), value="top", label=_en("place"))
        with gr.Column():
            second = gr.Dropdown(_choices([NONE, *scenes.SHAPES]), value=NONE, label=_en("second"))
            second_colour = gr.Dropdown(_choices(scenes.COLOURS), value="blue", label=_en("second_colour"))
            relation = gr.Dropdown(_choices(scenes.RELATIONS), value="left of", label=_en("relation"))
    with gr.Row():
        seed = gr.Number(0, precision=0, label=_en("seed"), minimum=0)
        compose = gr.Button(_en("compose"), variant="primary", elem_id="learn-compose")
        random = gr.Button(_en("random_scene"), elem_id="learn-random")
    with gr.Row():
        image = gr.Image(label=_en("scene"), type="numpy", interactive=False, height=200, elem_id="learn-scene")
        caption = gr.Textbox(label=_en("caption"), interactive=False, elem_id="learn-caption")
    inputs = [shape, colour, place, second, second_colour, relation, seed]
    compose.click(guarded(_make_caption(learn, random_scene=False)), inputs, [image, caption], api_name=False)
    random.click(guarded(_make_caption(learn, random_scene=True)), inputs, [image, caption], api_name=False)

    gr.Markdown(_en("many_to_one"))
    with gr.Row():
        with gr.Column(scale=3, min_width=DIAGRAM_WIDTH):  # side by side on a laptop, stacked on a phone
            diagrams["many-to-one"] = _diagram("many-to-one")
        with gr.Column(scale=1, min_width=DIAGRAM_WIDTH // 3):
            diagrams["one-to-one"] = _diagram("one-to-one")
    speech = gr.Textbox(SPEECH, lines=4, label=_en("speech"), max_length=MAX_SPEECH_CHARS, elem_id="learn-speech")
    go = gr.Button(_en("classify"), variant="primary", elem_id="learn-classify")
    with gr.Row():
        gru = gr.Label(label=_en("gru_says"), elem_id="learn-genre-gru")
        bag = gr.Label(label=_en("bag_says"), elem_id="learn-genre-bag")
    figures = gr.Markdown(elem_id="learn-genre-figures")
    go.click(guarded(_make_genre(learn)), [speech], [gru, bag, figures], api_name=False)
    gr.Markdown(_en("one_to_one"))
    gr.Markdown(_en("many_to_many"))
    diagrams["many-to-many"] = _diagram("many-to-many")
    gr.on(None, _draw_diagrams, None, [diagrams[shape] for shape in DIAGRAMS], api_name=False)


def _scene_of(shape, colour, place, second, second_colour, relation, seed, random_scene: bool, visitor: str):
    """The scene asked for, or a random one from the seed; then its picture drawn from the same seed."""
    if isinstance(seed, bool) or not isinstance(seed, (int, float, type(None))) or not 0 <= (seed or 0) < 2 ** 32:
        raise InputError(_say("error.seed", visitor, high=2 ** 32 - 1))
    seed = int(seed or 0)
    rng = np.random.default_rng(seed)
    if random_scene:
        return scenes.random_scene(rng), rng
    try:
        if second in (None, "", NONE):
            scene = scenes.Scene((scenes.Thing(shape, colour),), place=place)
        else:
            scene = scenes.Scene((scenes.Thing(shape, colour), scenes.Thing(second, second_colour)), relation=relation)
        return scenes.check_scene(scene), rng
    except ValueError as error:
        raise InputError(str(error)) from None


def _make_caption(learn: LearnModels, *, random_scene: bool):
    def caption(shape, colour, place, second, second_colour, relation, seed, request: gr.Request | None = None):
        visitor = language.of(request)
        with shown_to_user(visitor):
            scene, rng = _scene_of(shape, colour, place, second, second_colour, relation, seed,
                                   random_scene=random_scene, visitor=visitor)
            picture = scenes.draw(scene, rng)
            model, _ = learn.model("learn-caption")
        words = []
        yield scenes.to_png_array(picture), ""
        for word, _ in model.caption(picture):
            words.append(word)
            yield scenes.to_png_array(picture), " ".join(words)
    return caption


def _make_genre(learn: LearnModels):
    def classify(speech: str, request: gr.Request | None = None):
        visitor = language.of(request)
        with shown_to_user(visitor):
            ids = learn.engine.tokenizer.encode(_checked_text(speech, "speech", MAX_SPEECH_CHARS, visitor))
            results, notes = [], []
            for name in ("learn-genre-gru", "learn-genre-bag"):
                model, meta = learn.model(name)
                logits = model.logits(ids)
                p = np.exp(logits - logits.max())
                named = [_say(f"genre.{genre}", visitor) for genre in genres.GENRES]
                results.append(dict(zip(named, (p / p.sum()).round(4).tolist())))
                m = meta["metrics"]
                notes.append(_say("figure.genre", visitor, model=registry.spec(name).label,
                                  accuracy=f"{m['accuracy']:.1%}", balanced=f"{m['balanced_accuracy']:.1%}",
                                  speeches=m["speeches"], plays=", ".join(genres.HELD_OUT_PLAYS)))
        return results[0], results[1], "  \n".join([*notes, _say("figure.genres", visitor, source=genres.SOURCE)])
    return classify


# --- the recurrence unrolled ------------------------------------------------------------------------

def _unrolled(learn: LearnModels) -> None:
    gr.Markdown(_en("unrolled_help"))
    sentence = gr.Textbox(SENTENCE, lines=2, label=_en("sentence"), max_length=MAX_SENTENCE_CHARS,
                          elem_id="learn-sentence")
    with gr.Row():
        order = gr.Radio(_choices(ORDERS), value="variance", label=_en("sort_by"))
        go = gr.Button(_en("show"), variant="primary", elem_id="learn-unroll")
    picture = gr.HTML(elem_id="learn-heatmap")
    roles = gr.Markdown(elem_id="learn-roles")
    go.click(guarded(_make_unroll(learn)), [sentence, order], [picture, roles], api_name=False)


def _unit_roles(learn: LearnModels, model) -> dict:
    """The units' roles as `train learn --part roles` stored them for these weights, else measured now (seconds)."""
    try:
        stored = learn.data(ROLES_FILE)
    except FileNotFoundError:
        stored = {}
    if hidden.measured_on(stored, checkpoints.read_meta(learn.engine.assets / SHAKESPEARE)):
        return stored
    log.info("measuring the hidden units' roles (%s has none for these weights)", ROLES_FILE)
    return hidden.unit_roles(model, learn.engine.tokenizer)


def _make_unroll(learn: LearnModels):
    def unroll(sentence: str, order: str, request: gr.Request | None = None):
        visitor = language.of(request)
        with shown_to_user(visitor):
            sentence = _checked_text(sentence, "sentence", MAX_SENTENCE_CHARS, visitor)
            if order not in ORDERS:
                raise InputError(_say("error.order", visitor))
            engine = learn.engine
            model = engine.language_model(SHAKESPEARE).numpy_model
            ids = engine.tokenizer.encode(sentence)
        states = hidden.hidden_states(model, ids)  # (2 · units, tokens)
        found = learn.computed("roles", lambda: _unit_roles(learn, model))
        role_units = [unit for units in found["roles"].values() for unit, _ in units]
        shown = list(dict.fromkeys(role_units + [int(u) for u in hidden.order_units(states, order)]))[:HEATMAP_UNITS]
        units = model.units
        rows = [f"L{u // units + 1}·{u % units}" for u in shown]
        columns = [t.replace("\n", "⏎") or "·" for t in hidden.piece_texts(engine.tokenizer, ids)]
        picture = svg.heatmap(states[shown], rows, columns,
                              title=_say("figure.heatmap", visitor, tokens=len(ids), units=len(shown)))
        lines = [_say("figure.roles", visitor, tokens=found["tokens"])]
        for feature in hidden.FEATURES:
            units_found = found["roles"][feature]
            named = ", ".join(f"L{u // units + 1}·{u % units} (r = {r:+.2f})" for u, r in units_found)
            lines.append(f"- **{feature}** ({_say(f'feature.{feature}', visitor)}): {named}")
        return picture, "\n".join(lines)
    return unroll


# --- vanishing gradients ----------------------------------------------------------------------------

def _gradients(learn: LearnModels) -> None:
    gr.Markdown(_en("gradients_help"))
    show = gr.Button(_en("load"), elem_id="learn-copy-show")
    with gr.Row():
        norms = gr.HTML(elem_id="learn-gradient-norms")
        accuracy = gr.HTML(elem_id="learn-copy-accuracy")
    source = gr.Markdown(elem_id="learn-copy-source")
    with gr.Row():
        distance = gr.Slider(1, copy_task.MAX_PAGE_DISTANCE, value=10, step=1, label=_en("distance"),
                             elem_id="learn-distance")
        go = gr.Button(_en("recompute"), variant="primary", elem_id="learn-recompute")
    recomputed = gr.HTML(elem_id="learn-recomputed")
    show.click(guarded(_make_copy_study(learn)), None, [norms, accuracy, source], api_name=False)
    go.click(guarded(_make_recompute(learn)), [distance], [recomputed], api_name=False)


def _make_copy_study(learn: LearnModels):
    def study(request: gr.Request | None = None):
        visitor = language.of(request)
        with shown_to_user(visitor):
            data = learn.data(COPY_FILE)
        cells = data["cells"]
        norms = {_say("figure.trained", visitor, cell=cell): values["gradient_norms_trained"]
                 for cell, values in cells.items()}
        norms.update({_say("figure.at_start", visitor, cell=cell): values["gradient_norms_at_start"]
                      for cell, values in cells.items()})
        steps_back = list(range(len(next(iter(norms.values()))) - 1, -1, -1))
        left = svg.line_chart(norms, x_values=steps_back, x_label=_say("figure.steps_back", visitor), log_y=True,
                              y_label="‖∂L/∂h_t‖", title=f"N = {data['max_distance']}")
        right = svg.line_chart({cell: values["accuracy_by_distance"] for cell, values in cells.items()},
                               x_label="N", y_label=_say("figure.accuracy", visitor),
                               title=_say("figure.accuracy_by_n", visitor))
        return left, right, _say("figure.copy_source", visitor, command=data["command"], units=data["units"],
                                 symbols=data["symbols"])
    return study


def _make_recompute(learn: LearnModels):
    def recompute(distance, request: gr.Request | None = None):
        visitor = language.of(request)
        with shown_to_user(visitor):
            try:
                distance = copy_task.check_distance(distance)
            except ValueError as error:
                raise InputError(str(error)) from None
            measured = {cell: copy_task.measure(*_copy_net(learn, cell), distance=distance, seed=distance)
                        for cell in COPY_CELLS}
        series = {_say("figure.recomputed_cell", visitor, cell=cell, accuracy=f"{m['accuracy']:.0%}"):
                  m["gradient_norms"] for cell, m in measured.items()}
        return svg.line_chart(series, x_values=list(range(distance, -1, -1)),
                              x_label=_say("figure.steps_back", visitor), y_label="‖∂L/∂h_t‖", log_y=True,
                              title=_say("figure.recomputed", visitor, distance=distance))
    return recompute


def _copy_net(learn: LearnModels, cell: str):
    net, _ = learn.model(f"learn-copy-{cell}")
    return net, net.config


# --- embeddings ---------------------------------------------------------------------------------------

def _embeddings(learn: LearnModels) -> None:
    gr.Markdown(_en("embeddings_help"))
    gr.Markdown(_en("kinds"))
    with gr.Row():
        word = gr.Textbox("king", label=_en("word"), max_length=MAX_WORD_CHARS, elem_id="learn-word")
        go = gr.Button(_en("neighbours"), variant="primary", elem_id="learn-neighbours")
    # A table of our own, not gr.Dataframe: Gradio's table imports pandas (and its Styler) as the page is built.
    near = gr.HTML(elem_id="learn-near")
    draw = gr.Button(_en("map"), elem_id="learn-map-draw")
    picture = gr.HTML(elem_id="learn-map")
    go.click(guarded(_make_neighbours(learn)), [word], [near], api_name=False)
    draw.click(guarded(_make_map(learn)), None, [picture], api_name=False)


def _embedding(learn: LearnModels) -> np.ndarray:
    """The Shakespeare GRU's (vocab, dim) embedding, read once."""
    from ... import checkpoints

    def read():
        directory = learn.engine.assets / SHAKESPEARE
        meta = checkpoints.read_meta(directory)
        return weights_by_name(directory, meta, learn.engine.tokenizer)["embedding/embeddings"]
    return learn.computed("embedding", read)


def _make_neighbours(learn: LearnModels):
    def neighbours(word: str, request: gr.Request | None = None):
        visitor = language.of(request)
        with shown_to_user(visitor):
            word = _checked_text(word, "word", MAX_WORD_CHARS, visitor)
            matrix = _embedding(learn)
        return neighbours_table(embeddings.neighbours(matrix, learn.engine.tokenizer, word.strip()), visitor)
    return neighbours


def neighbours_table(rows: list[tuple[str, float]], visitor: str) -> str:
    """The nearest pieces as an HTML table in the visitor's language: each piece as the tokenizer writes it
    (a leading space starts a word), its cosine similarity to three decimals."""
    header = "".join(f"<th>{html.escape(_say(f'near.{name}', visitor))}</th>" for name in NEAR_HEADERS)
    body = "".join(f"<tr><td class=\"piece\">{html.escape(piece)}</td><td>{similarity:.3f}</td></tr>"
                   for piece, similarity in rows)
    return f'<table class="near"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _make_map(learn: LearnModels):
    def draw(request: gr.Request | None = None):
        visitor = language.of(request)
        with shown_to_user(visitor):
            matrix = _embedding(learn)
        tokenizer = learn.engine.tokenizer
        found = learn.computed("map", lambda: embeddings.pca_map(matrix, tokenizer,
                                                                 embeddings.frequent_pieces(tokenizer)))
        kinds = {kind: _say(f"kind.{kind}", visitor) for kind in embeddings.KINDS}
        points = [(label, x, y, kinds[kind]) for label, x, y, kind in found["points"]]
        return svg.scatter(points, tuple(kinds.values()), title=_say(
            "figure.map", visitor, count=len(points), first=f"{found['explained'][0]:.0%}",
            second=f"{found['explained'][1]:.0%}"))
    return draw


# --- training choices ---------------------------------------------------------------------------------

def _training_choices(learn: LearnModels) -> None:
    gr.Markdown(_en("choices_help"))
    show = gr.Button(_en("load"), variant="primary", elem_id="learn-choices-show")
    with gr.Row():
        training = gr.HTML(elem_id="learn-choices-train")
        validation = gr.HTML(elem_id="learn-choices-validation")
    source = gr.Markdown(elem_id="learn-choices-source")
    show.click(guarded(_make_choices(learn)), None, [training, validation, source], api_name=False)


def _make_choices(learn: LearnModels):
    def choices(request: gr.Request | None = None):
        visitor = language.of(request)
        with shown_to_user(visitor):
            data = learn.data(CHOICES_FILE)
        runs = data["runs"]
        marks = {name: [(run["best_epoch"] - 1, _say("figure.best_epoch", visitor)),
                        (run["stopped_epoch"] - 1, _say("figure.stops_here", visitor))] for name, run in runs.items()}
        axes = {"x_label": _say("figure.epoch", visitor), "y_label": _say("figure.loss", visitor)}
        left = svg.line_chart({name: run["train_loss"] for name, run in runs.items()}, **axes,
                              title=_say("figure.training_loss", visitor))
        right = svg.line_chart({name: run["validation_loss"] for name, run in runs.items()}, **axes,
                               title=_say("figure.validation_loss", visitor), marks=marks)
        stops = "; ".join(_say("figure.stop", visitor, name=name, best=run["best_epoch"], stopped=run["stopped_epoch"])
                          for name, run in runs.items())
        return left, right, _say("figure.choices_source", visitor, command=data["command"], model=data["model"],
                                 stops=stops)
    return choices
