"""What visitors type to the chatbot, by kind, with replies in both voices and an automatic check.

Kinds: questions about the bot itself, feelings, likes, jokes (`pyjokes`), facts beyond countries
(`knowledge`), follow-ups that need the previous turn, and other languages. Messages are written
as templates (honest generated data: the bot says what it is). Each kind's phrasings are split
by index: most train; the held-out ones are never trained on and are shared between validation
and the fixed test set by a hash of the subject (`role_of`).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from . import corpora, knowledge

MODERN, SHAKESPEARE = "modern", "shakespeare"
PERSONAS = (MODERN, SHAKESPEARE)
BOT_NAME = "the RNN Playground chatbot"
KINDS = ("self", "feelings", "likes", "jokes", "facts", "followup", "languages")
MAX_JOKE_WORDS = 22  # longer jokes do not fit the decoder's 32 tokens
JOKE_OVERLAP = 0.6  # share of a reply's words that must come from one joke for it to count as a joke
LANGUAGE_REPLIES = ("Sorry, I only speak English.", "Alas, good friend, I speak but English.")


@dataclass(frozen=True)
class Talk:
    """One message (with the turns before it), the reply in each voice, and how a reply is checked."""

    kind: str  # one of KINDS
    context: tuple[str, ...]  # previous turns, oldest first; the last is the message
    replies: tuple[str, str]  # (modern, shakespeare)
    role: str  # "train", "validation" or "test"
    accepted: tuple[str, ...] = ()  # for facts and follow-ups: a right reply contains one of these
    template: str = ""  # e.g. "self/name/3"


# Training-only phrasings are marked "+" in their template ("self/name/+3"): the first models
# learnt each kind's few trained phrasings by heart and missed new ones (self 12.5% of held-out
# phrasings right). They are written to differ from every held-out phrasing by more than one word,
# and the fixed held-out files do not depend on them (`heldout._add_history` leaves them out).
MORE = "+"


def is_more(talk: "Talk") -> bool:
    """Whether `talk` is one of the training-only phrasings (`MORE`)."""
    return f"/{MORE}" in talk.template


def role_of(key: str, phrasing_held_out: bool) -> str:
    """"train" for a trained phrasing; a held-out one goes to validation or test by a hash of `key`."""
    if not phrasing_held_out:
        return "train"
    return "validation" if corpora._stable_bucket("role " + key) < 50 else "test"


def _pick(options, key: str):
    return options[corpora._stable_bucket(key) % len(options)]


# --- the Shakespearean voice ---------------------------------------------------------

_OPENERS = ("Marry, ", "Know, good sir, that ", "I' faith, ", "Good friend, ", "Hark, ")


def shakespearean(answer: str, key: str) -> str:
    """A plain answer said in the Shakespearean voice: "Marry, the capital of Peru is Lima."."""
    opener = _pick(_OPENERS, "voice " + key)
    first = answer[0].lower() + answer[1:] if answer[:2] != answer[:2].upper() else answer
    return opener + first


# --- the bot itself ----------------------------------------------------------------

@dataclass(frozen=True)
class Topic:
    """Questions of one kind that share an answer."""

    name: str
    phrasings: tuple[str, ...]
    held_out: tuple[int, ...]
    replies: tuple[str, str]
    more: tuple[str, ...] = ()  # training-only phrasings (`MORE`), added after the first retraining


SELF_TOPICS = (
    Topic("name", ("What is your name?", "What's your name?", "who are you", "Who are you?", "Do you have a name?",
                   "what should I call you?", "Tell me your name.", "May I know your name?", "whats your name",
                   "What are you called?", "Introduce yourself.", "Who am I talking to?", "Who might you be?"),
          held_out=(7, 11, 12),  # no held-out phrasing is a trained one but for case and marks ("who are you")
          more=("Your name?", "What do people call you?", "Can you tell me your name?", "Who is this?", "Who's this?",
                "I'd like to know your name.", "Who are you exactly?", "So who are you?", "Hi, who are you?",
                "What name do you go by?", "How should I address you?", "Please introduce yourself.",
                "Say your name.", "Are you the chatbot?", "And you are?", "tell me who you are"),
          replies=(f"I'm {BOT_NAME}, a small recurrent neural network.",
                   f"I am {BOT_NAME}, good sir, a small recurrent neural network.")),
    Topic("what", ("What are you?", "Are you a robot?", "Are you human?", "are you a bot", "Are you a real person?",
                   "Are you an AI?", "Are you a computer?", "what kind of thing are you?", "Are you alive?",
                   "Is this a bot?", "Am I talking to a machine?", "Are you a person or a program?"),
          held_out=(2, 6, 10),
          more=("You're a bot, right?", "Is this an AI?", "Are you some kind of AI?", "Are you a living being?", "Is there a human behind this?",
                "Are you a neural network?", "Are you made of code?", "what are you exactly", "Are you conscious?",
                "Do you have a body?", "Are you a machine or a person?", "Is this a real person?"),
          replies=("I'm a chatbot: a recurrent neural network, not a person.",
                   "I am no man, sir, but a chatbot: a recurrent neural network.")),
    Topic("how", ("How do you work?", "How were you made?", "How do you think?", "how do you answer me?",
                  "What is inside you?", "How were you trained?", "How do you know things?",
                  "What kind of model are you?", "How do you come up with answers?", "Explain how you work."),
          held_out=(2, 6, 9),
          more=("How does this work?", "How does this chatbot work?", "What happens when I type something?",
                "How do you make your replies?", "How do you learn?", "What are you made of?", "What is your architecture?",
                "Are you an RNN?", "Are you a GRU or an LSTM?", "Did someone train you?", "How do you understand me?",
                "What algorithm are you?", "How do you pick your words?", "Where do your answers come from?",
                "How did you learn English?"),
          replies=("I'm a GRU encoder-decoder with attention, trained on example conversations.",
                   "I am a GRU encoder-decoder with attention, sir, taught by many conversations.")),
    Topic("maker", ("Who made you?", "Who created you?", "Who built you?", "who wrote you", "Who is your creator?",
                    "Who programmed you?", "Who trained you?", "Where do you come from?"),
          held_out=(2, 7),
          more=("Who made this?", "Who is behind you?", "Who owns you?", "Who are your makers?", "Where were you made?",
                "Who taught you?", "Which company made you?", "Who put you here?", "who is your maker"),
          replies=("The RNN Playground made me, to show what recurrent networks do.",
                   "The RNN Playground made me, sir, to show what recurrent networks do.")),
    Topic("can", ("What can you do?", "What do you do?", "what are you good for?", "How can you help me?",
                  "What can I ask you?", "What are you able to do?", "What can you talk about?"),
          held_out=(2, 6),
          more=("What is your job?", "What should I ask you?", "Can you help me?", "What do you know?",
                "What can you tell me?", "Can you answer questions?", "What questions can you answer?",
                "Can you tell jokes?", "What are your skills?", "What topics do you know?", "What is this app for?",
                "help"),
          replies=("I'm a chatbot: I can chat, answer simple facts and tell a joke.",
                   "I am a chatbot, sir: I can talk, answer simple facts and tell a jest.")),
)
SELF_MARKERS = ("chatbot", "recurrent", "neural network", "gru", "rnn playground", "program")


def variants(message: str, held_out: bool) -> tuple[str, ...]:
    """A held-out message as people also type it: all lowercase without its final mark, and after "Hey, "."""
    if not held_out:
        return (message,)
    bare = message.lower().rstrip("?.!")
    return tuple(dict.fromkeys((message, bare, "Hey, " + bare + message[len(message.rstrip("?.!")):])))


def typed(message: str) -> tuple[str, ...]:
    """The forms of a trained message that `variants` gives a held-out one, but for the message itself: the
    first models met lowercase and "Hey, …" questions about themselves only in the held-out sets, and
    answered them worst (`who built you` → "Good morning to you too!")."""
    return variants(message, True)[1:]


def _topic_talk(kind: str, topics: tuple[Topic, ...]) -> list[Talk]:
    found = []
    for topic in topics:
        for i, phrasing in enumerate(topic.phrasings):
            for message in variants(phrasing, i in topic.held_out):
                role = role_of(f"{kind} {topic.name} {message}", i in topic.held_out)
                found.append(Talk(kind, (message,), topic.replies, role, template=f"{kind}/{topic.name}/{i}"))
        trained = [p for i, p in enumerate(topic.phrasings) if i not in topic.held_out]
        found += [Talk(kind, (message,), topic.replies, "train", template=f"{kind}/{topic.name}/{MORE}t{i}")
                  for i, phrasing in enumerate(trained) for message in typed(phrasing)]
        found += [Talk(kind, (message,), topic.replies, "train", template=f"{kind}/{topic.name}/{MORE}{i}")
                  for i, phrasing in enumerate(topic.more) for message in (phrasing,) + typed(phrasing)]
    return found


# --- feelings ------------------------------------------------------------------------

GOOD_FEELINGS = ("happy", "great", "excited", "good", "glad", "cheerful", "proud", "relaxed", "fantastic", "wonderful")
BAD_FEELINGS = ("sad", "tired", "bored", "lonely", "angry", "stressed", "sick", "worried", "upset", "nervous")
FEELING_PHRASINGS = ("I am {feeling}.", "I'm {feeling}", "I feel {feeling} today.", "i'm so {feeling}",
                     "I'm feeling {feeling}.", "Today I am {feeling}.", "I feel really {feeling}.",
                     "I've been {feeling} lately.", "I am very {feeling} today")
FEELING_HELD_OUT = (2, 5, 8)
MORE_GOOD_FEELINGS = ("joyful", "thrilled", "delighted", "amazing", "awesome", "content", "lucky", "calm",
                      "optimistic", "fine")
MORE_BAD_FEELINGS = ("depressed", "exhausted", "anxious", "scared", "frustrated", "miserable", "unhappy", "afraid",
                     "down", "awful")
MORE_FEELING_PHRASINGS = ("{feeling}", "I'm {feeling} right now.", "Feeling {feeling}.", "feeling so {feeling}",
                          "I'm a bit {feeling}.", "I'm kind of {feeling}.", "I'm pretty {feeling} tonight.",
                          "I was {feeling} all day.", "Honestly, I'm {feeling}.", "I get {feeling} sometimes.",
                          "I'm {feeling} this morning.", "Right now I feel {feeling}.", "I feel a little {feeling}.",
                          "My mood is {feeling}.", "I'm extremely {feeling}!", "Man, I'm {feeling}.",
                          "I have been feeling {feeling}.", "I'm really {feeling} this week.", "Just feeling {feeling}.",
                          "i am {feeling} now")
FEELING_REPLIES = {
    "good": (("I'm glad to hear that!", "That's great, I'm happy for you!"),
             ("I am glad of it, good sir!", "Joy to you, friend, I am glad of it.")),
    "bad": (("I'm sorry to hear that. I hope things get better.", "Oh no, I'm sorry. I hope you feel better soon."),
            ("Alas, I am sorry for it, friend.", "I grieve to hear it, sir. May it mend soon.")),
}
FEELING_MARKERS = {"good": ("glad", "great", "happy", "joy", "wonderful"),
                   "bad": ("sorry", "hope", "alas", "grieve", "mend")}


def feeling_talk() -> list[Talk]:
    """Each feeling in each phrasing; the training-only feelings and phrasings (`MORE`) never with a held-out phrasing."""
    found = []
    for mood, feelings in (("good", GOOD_FEELINGS), ("bad", BAD_FEELINGS)):
        for feeling in feelings:
            for i, phrasing in enumerate(FEELING_PHRASINGS):
                message = phrasing.format(feeling=feeling)
                replies = tuple(_pick(FEELING_REPLIES[mood][p], message) for p in range(2))
                found.append(Talk("feelings", (message,), replies, role_of(message, i in FEELING_HELD_OUT),
                                  template=f"feelings/{mood}/{i}"))
    trained = [(i, p) for i, p in enumerate(FEELING_PHRASINGS) if i not in FEELING_HELD_OUT]
    more = [(f"{MORE}{i}", p) for i, p in enumerate(MORE_FEELING_PHRASINGS)]
    for mood, feelings, extra in (("good", GOOD_FEELINGS, MORE_GOOD_FEELINGS), ("bad", BAD_FEELINGS, MORE_BAD_FEELINGS)):
        pairs = [(feeling, i, p) for feeling in feelings for i, p in more]
        pairs += [(feeling, f"{MORE}w{i}", p) for feeling in extra for i, p in trained + more]
        for feeling, i, phrasing in pairs:
            message = phrasing.format(feeling=feeling)
            replies = tuple(_pick(FEELING_REPLIES[mood][p], message) for p in range(2))
            found.append(Talk("feelings", (message,), replies, "train", template=f"feelings/{mood}/{i}"))
    return found


# --- likes ---------------------------------------------------------------------------

LIKED_THINGS = ("music", "movies", "books", "dogs", "cats", "pizza", "football", "chess", "coffee", "tea",
                "reading", "poetry", "the rain", "summer", "chocolate", "dancing", "games", "the sea", "travel",
                "cooking", "science", "history", "painting", "sport", "ice cream")
LIKES_PHRASINGS = ("Do you like {thing}?", "do you like {thing}", "Do you love {thing}?", "Are you a fan of {thing}?",
                   "What do you think of {thing}?", "Do you enjoy {thing}?", "How do you feel about {thing}?",
                   "Is {thing} something you like?", "Are you into {thing}?")
LIKES_HELD_OUT = (3, 6, 8)
MORE_LIKED_THINGS = ("horses", "jazz", "snow", "gardening", "maths", "hiking", "the moon", "trains", "video games",
                     "swimming", "apples", "Shakespeare", "birds", "films", "rock music")
MORE_LIKES_PHRASINGS = ("Do you like {thing} at all?", "Do you care for {thing}?", "Are you fond of {thing}?",
                        "Is {thing} your thing?", "Tell me, do you like {thing}?", "I love {thing}. Do you?",
                        "Any thoughts on {thing}?", "Do you like {thing} too?", "What's your opinion of {thing}?",
                        "Does {thing} interest you?", "What's your take on {thing}?", "Do you like {thing} or not?",
                        "How much do you like {thing}?", "Would you say you like {thing}?", "you like {thing}?",
                        # Questions that start "Are you …" and are about a thing: the first retrained model
                        # answered every held-out "Are you into {thing}?" as a question about itself.
                        "Are you interested in {thing}?", "Are you keen on {thing}?", "Are you crazy about {thing}?")
FAVOURITE_PHRASINGS = ("What is your favourite {what}?", "What's your favorite {what}?", "Which {what} do you like best?",
                       "what {what} do you like?", "Do you have a favourite {what}?")
FAVOURITE_HELD_OUT = (2,)
MORE_FAVOURITE_PHRASINGS = ("Tell me your favourite {what}.", "Got a favourite {what}?", "Name your favourite {what}.",
                            "What {what} do you love most?", "Favourite {what}?", "your favorite {what}?",
                            "What would you say is your favourite {what}?")
FAVOURITES = {"colour": "blue", "color": "blue", "food": "pizza", "book": "Hamlet", "animal": "the owl",
              "season": "spring", "song": "any song about rain", "movie": "The Wizard of Oz", "sport": "chess",
              "number": "seven", "play": "Hamlet", "word": "hello"}
LIKES_MARKERS = ("like", "love", "enjoy", "fond", "favourite", "favorite")


def _like_replies(thing: str) -> tuple[str, str]:
    them = "them" if thing.endswith("s") else "it"
    return (f"I like {thing}, though I only know {them} from what people write.", f"I am fond of {thing}, good sir.")


def likes_talk() -> list[Talk]:
    """Likes and favourites; the training-only things and phrasings (`MORE`) never with a held-out phrasing."""
    found = []
    for thing in LIKED_THINGS:
        for i, phrasing in enumerate(LIKES_PHRASINGS):
            message = phrasing.format(thing=thing)
            found.append(Talk("likes", (message,), _like_replies(thing), role_of(message, i in LIKES_HELD_OUT),
                              template=f"likes/thing/{i}"))
    for what, answer in FAVOURITES.items():
        for i, phrasing in enumerate(FAVOURITE_PHRASINGS):
            message = phrasing.format(what=what)
            replies = (f"My favourite {what} is {answer}.", f"My favourite {what}, sir, is {answer}.")
            found.append(Talk("likes", (message,), replies, role_of(message, i in FAVOURITE_HELD_OUT),
                              template=f"likes/favourite/{i}"))
    trained = [(str(i), p) for i, p in enumerate(LIKES_PHRASINGS) if i not in LIKES_HELD_OUT]
    more = [(f"{MORE}{i}", p) for i, p in enumerate(MORE_LIKES_PHRASINGS)]
    pairs = [(thing, i, p) for thing in LIKED_THINGS for i, p in more]
    pairs += [(thing, f"{MORE}w{i}", p) for thing in MORE_LIKED_THINGS for i, p in trained + more]
    found += [Talk("likes", (phrasing.format(thing=thing),), _like_replies(thing), "train", template=f"likes/thing/{i}")
              for thing, i, phrasing in pairs]
    for what, answer in FAVOURITES.items():
        for i, phrasing in enumerate(MORE_FAVOURITE_PHRASINGS):
            found.append(Talk("likes", (phrasing.format(what=what),),
                              (f"My favourite {what} is {answer}.", f"My favourite {what}, sir, is {answer}."), "train",
                              template=f"likes/favourite/{MORE}{i}"))
    return found


# --- jokes ---------------------------------------------------------------------------

JOKE_PHRASINGS = ("Tell me a joke.", "tell me a joke", "Do you know any jokes?", "Make me laugh.",
                  "Can you tell me a joke?", "Say something funny.", "I want to hear a joke.", "Know any good jokes?",
                  "Tell me something funny", "Give me a joke.", "Another joke, please.", "Got a joke for me?",
                  "Cheer me up with a joke.", "Tell us a joke!", "joke please", "Be funny.", "Do you have a joke?",
                  "Could you tell me a funny joke?", "I need a laugh.", "Tell me your best joke.")
JOKE_HELD_OUT = (3, 8, 12, 16, 19)
MORE_JOKE_PHRASINGS = ("I could use a joke.", "Got any jokes?", "Crack a joke.", "Amuse me.", "How about a joke?",
                       "What's a good joke?", "Any jokes?", "Want to tell me a joke?", "Lighten the mood with a joke.",
                       "I'd love to hear a joke.")
JOKE_LEADS = ("Here's one: ", "A jest, sir: ")


@functools.lru_cache(maxsize=None)
def jokes() -> tuple[str, ...]:
    """The English "neutral" jokes of `pyjokes` (programmers' one-liners) short enough to be a reply."""
    from pyjokes.jokes_en import neutral

    return tuple(joke for joke in neutral if len(joke.split()) <= MAX_JOKE_WORDS and joke.isascii())


# Of the jokes, the share (in %) each trained phrasing is answered with: training repeats a phrasing with
# several jokes. The training-only phrasings (`MORE`), four times as many as the first ones, get a
# quarter of that: the long joke replies would otherwise take much of the kinds' gradient.
JOKES_PERCENT = 100 // len(JOKE_PHRASINGS) * 4


def _answered_with_jokes(message: str, role: str, template: str, percent: int) -> list[Talk]:
    """`message` answered with each joke whose hash falls below `percent` (a held-out one: the first joke)."""
    every = jokes()
    chosen = [joke for j, joke in enumerate(every) if corpora._stable_bucket(f"joke {message} {j}") < percent]
    return [Talk("jokes", (message,), (JOKE_LEADS[0] + joke, JOKE_LEADS[1] + joke), role, template=template)
            for joke in (chosen if role == "train" else every[:1])]


def joke_talk() -> list[Talk]:
    """Each joke phrasing, answered with jokes chosen by hash (`JOKES_PERCENT`)."""
    found = []
    for i, phrasing in enumerate(JOKE_PHRASINGS):
        for message in variants(phrasing, i in JOKE_HELD_OUT):
            found += _answered_with_jokes(message, role_of(message, i in JOKE_HELD_OUT), f"jokes/{i}", JOKES_PERCENT)
    more = [(f"{MORE}t{i}", message) for i, phrasing in enumerate(JOKE_PHRASINGS) if i not in JOKE_HELD_OUT
            for message in typed(phrasing)]
    more += [(f"{MORE}{i}", message) for i, phrasing in enumerate(MORE_JOKE_PHRASINGS)
             for message in (phrasing,) + typed(phrasing)]
    for i, message in more:
        found += _answered_with_jokes(message, "train", f"jokes/{i}", JOKES_PERCENT // 4)
    return found


def is_joke(reply: str) -> bool:
    """Whether most words of `reply` come from one of the jokes (what a joke request should get)."""
    words = set(re.findall(r"[a-z0-9']+", reply.lower()))
    if len(words) < 3:
        return False
    return any(len(words & set(re.findall(r"[a-z0-9']+", joke.lower()))) >= JOKE_OVERLAP * len(words)
               for joke in jokes())


# --- facts beyond countries ------------------------------------------------------------

FACT_PHRASINGS = {
    "element/symbol": (("What is the symbol of {subject}?", "What's the chemical symbol for {subject}?",
                        "symbol of {subject}?", "Which symbol does {subject} have?", "How do you write {subject} in chemistry?",
                        "What is the chemical symbol of {subject}?", "{subject}: what's its symbol?"), (2, 5)),
    "element/name": (("Which element has the symbol {subject}?", "What element is {subject}?",
                      "What does the symbol {subject} stand for?", "{subject} is the symbol of which element?",
                      "Which element is written {subject}?"), (2,)),
    "element/number": (("What is the atomic number of {subject}?", "atomic number of {subject}?",
                        "How many protons does {subject} have?", "What's {subject}'s atomic number?",
                        "Which atomic number does {subject} have?"), (2,)),
    "planet/order": (("Which is the {subject} planet from the Sun?", "What is the {subject} planet?",
                      "Name the {subject} planet from the sun.", "which planet is {subject} from the sun",
                      "What planet comes {subject} from the Sun?"), (2,)),
    "planet/position": (("Where is {subject} in the solar system?", "Which planet from the Sun is {subject}?",
                         "How far from the Sun is {subject} in the order of planets?",
                         "What number planet is {subject}?"), (2,)),
    "planet/year": (("How long is a year on {subject}?", "How long does {subject} take to go around the Sun?",
                     "How many days is a year on {subject}?", "how long is {subject}'s year",
                     "What is the length of a year on {subject}?"), (2,)),
    "book/author": (("Who wrote {subject}?", "Who is the author of {subject}?", "who wrote {subject}",
                     "Who was {subject} written by?", "Which author wrote {subject}?",
                     "Do you know who wrote {subject}?"), (3, 5)),
    "sum/plus": (("What is {subject}?", "what's {subject}", "How much is {subject}?", "Calculate {subject}.",
                  "Can you tell me what {subject} is?"), (2,)),
}
FACT_PHRASINGS["sum/minus"] = FACT_PHRASINGS["sum/times"] = FACT_PHRASINGS["sum/plus"]
MORE_FACT_PHRASINGS = {
    "element/symbol": ("Tell me the symbol for {subject}.", "{subject} symbol?", "How is {subject} abbreviated?"),
    "element/name": ("Name the element {subject}.", "Element with symbol {subject}?", "{subject} means which element?"),
    "element/number": ("{subject} atomic number?", "Tell me the atomic number of {subject}.",
                       "Where is {subject} in the periodic table?"),
    "planet/order": ("Tell me the {subject} planet from the Sun.", "{subject} planet from the sun?"),
    "planet/position": ("Is {subject} near the Sun?", "In what order is {subject} from the Sun?"),
    "planet/year": ("A year on {subject} lasts how long?", "{subject} year length?"),
    "book/author": ("Author of {subject}?", "Whose book is {subject}?", "Who is {subject} by?",
                    "Tell me who wrote {subject}.", "Name the author of {subject}."),
    "sum/plus": ("{subject}?", "Compute {subject}.", "What does {subject} make?", "{subject} equals what?"),
}
MORE_FACT_PHRASINGS["sum/minus"] = MORE_FACT_PHRASINGS["sum/times"] = MORE_FACT_PHRASINGS["sum/plus"]


def _fact_replies(fact: knowledge.Fact) -> tuple[str, str]:
    return fact.answer, shakespearean(fact.answer, fact.subject + fact.kind)


def fact_talk() -> list[Talk]:
    found = []
    for fact in knowledge.facts():
        phrasings, held_out = FACT_PHRASINGS[fact.kind]
        for i, phrasing in enumerate(phrasings):
            message = phrasing.format(subject=fact.subject)
            found.append(Talk("facts", (message,), _fact_replies(fact), role_of(message, i in held_out),
                              accepted=fact.accepted, template=f"facts/{fact.kind}/{i}"))
        found += [Talk("facts", (phrasing.format(subject=fact.subject),), _fact_replies(fact), "train",
                       accepted=fact.accepted, template=f"facts/{fact.kind}/{MORE}{i}")
                  for i, phrasing in enumerate(MORE_FACT_PHRASINGS[fact.kind])]
    return found


def answer_is_right(reply: str, accepted: tuple[str, ...]) -> bool:
    """Whether `reply` contains an accepted answer as whole words: case-insensitive, except for answers
    of one or two characters (element symbols: "H" is not "h"), which must match exactly."""
    for answer in accepted:
        flags = 0 if len(answer) <= 2 else re.IGNORECASE
        if re.search(r"(?<![\w])" + re.escape(answer) + r"(?![\w])", reply, flags):
            return True
    return False


# --- follow-ups ----------------------------------------------------------------------

FOLLOWUP_PHRASINGS = ("And {subject}?", "What about {subject}?", "and {subject}?", "How about {subject}?",
                      "And for {subject}?", "And what about {subject}?", "Same for {subject}?")
FOLLOWUP_HELD_OUT = (3, 6)
MORE_FOLLOWUP_PHRASINGS = ("{subject}?", "Now {subject}?", "And the one for {subject}?", "Then {subject}?",
                           "OK, {subject}?", "And also {subject}?", "What of {subject}?", "now do {subject}")
FOLLOWUPS_PER_FACT = 2  # other subjects asked after each first question


def _followup_pairs() -> list[tuple[str, str, str, str, str, tuple[str, ...]]]:
    """(key, first question, first answer, follow-up subject, its answer, accepted) for capitals,
    element symbols and planets' years: the kinds where "And X?" has one clear meaning."""
    from .dialogues import FACT_QUESTIONS, _capital_answer

    capital = next(questions for questions in FACT_QUESTIONS if questions.kind == "capital")
    countries = list(corpora.country_facts())
    found = []
    for i, fact in enumerate(countries):
        for step in range(1, FOLLOWUPS_PER_FACT + 1):
            other = countries[(i + step * 37) % len(countries)]
            found.append((f"capital {fact['name']} {other['name']}", capital.phrasings[0].format(name=fact["name"]),
                          _capital_answer(fact), other["name"], _capital_answer(other), (other["capital"],)))
    for kind, phrasing in (("element/symbol", "What is the symbol of {subject}?"),
                           ("planet/year", "How long is a year on {subject}?")):
        same = [fact for fact in knowledge.facts() if fact.kind == kind]
        for i, fact in enumerate(same):
            for step in range(1, FOLLOWUPS_PER_FACT + 1):
                other = same[(i + step * 7) % len(same)]
                if other.subject != fact.subject:
                    found.append((f"{kind} {fact.subject} {other.subject}", phrasing.format(subject=fact.subject),
                                  fact.answer, other.subject, other.answer, other.accepted))
    return found


def followup_talk() -> list[Talk]:
    found = []
    for key, question, answer, subject, other_answer, accepted in _followup_pairs():
        i = corpora._stable_bucket("followup " + key) % len(FOLLOWUP_PHRASINGS)
        message = FOLLOWUP_PHRASINGS[i].format(subject=subject)
        for persona in PERSONAS:
            first = answer if persona == MODERN else shakespearean(answer, question)
            replies = (other_answer, shakespearean(other_answer, key))
            role = role_of(key, i in FOLLOWUP_HELD_OUT)
            found.append(Talk("followup", (question, first, message), replies, role, accepted=accepted,
                              template=f"followup/{i}"))
            if role == "train":  # a second, training-only phrasing of the same trained follow-up
                j = corpora._stable_bucket("more followup " + key) % len(MORE_FOLLOWUP_PHRASINGS)
                found.append(Talk("followup", (question, first, MORE_FOLLOWUP_PHRASINGS[j].format(subject=subject)),
                                  replies, role, accepted=accepted, template=f"followup/{MORE}{j}"))
    return found


# --- other languages -----------------------------------------------------------------

OTHER_LANGUAGES = ("spanish", "french", "german", "italian", "portuguese", "dutch", "swedish", "turkish",
                   "indonesian", "russian", "chinese", "japanese", "korean", "hindi", "persian", "hebrew")


@functools.lru_cache(maxsize=None)
def foreign_messages() -> tuple[tuple[str, str], ...]:
    """(language, message): the first turns of chatterbot-corpus conversations in other languages, real text."""
    import importlib.resources

    import yaml

    found = []
    root = importlib.resources.files("chatterbot_corpus") / "data"
    for language in OTHER_LANGUAGES:
        folder = root / language
        if not folder.is_dir():
            continue
        for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
            if item.name.endswith(".yml"):
                data = yaml.safe_load(item.read_text(encoding="utf-8")) or {}
                for turns in data.get("conversations", []):
                    if turns and isinstance(turns[0], str) and len(turns[0].split()) >= 2:
                        found.append((language, turns[0].strip()))
    return tuple(dict.fromkeys(found))


def language_talk() -> list[Talk]:
    """Messages in other languages; their replies say which language the models speak (a serving rule answers them)."""
    return [Talk("languages", (message,), LANGUAGE_REPLIES, role_of(message, True), template=f"languages/{language}")
            for language, message in foreign_messages()]


def is_language_reply(reply: str) -> bool:
    return "english" in reply.lower()


# --- everything ----------------------------------------------------------------------

_BUILDERS = {"self": lambda: _topic_talk("self", SELF_TOPICS), "feelings": feeling_talk, "likes": likes_talk,
             "jokes": joke_talk, "facts": fact_talk, "followup": followup_talk, "languages": language_talk}


@functools.lru_cache(maxsize=None)
def talk(kind: str) -> tuple[Talk, ...]:
    """Every message of one kind, of every role."""
    if kind not in _BUILDERS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return tuple(_BUILDERS[kind]())


def talk_of(role: str, kinds: tuple[str, ...] = KINDS) -> tuple[Talk, ...]:
    """The messages of `role` ("train", "validation" or "test") and `kinds`."""
    return tuple(item for kind in kinds for item in talk(kind) if item.role == role)


def reply_is_right(kind: str, reply: str, *, accepted: tuple[str, ...] = (), mood: str = "") -> bool:
    """The automatic check of a reply to a message of `kind` (README "Everyday input" states the rule).

    Args:
        kind: one of KINDS, or a small-talk kind of `dialogues` ("greeting", "thanks", …).
        reply: the chatbot's reply.
        accepted: for facts and follow-ups, the answers of which the reply must contain one.
        mood: for feelings, "good" or "bad".
    """
    from .dialogues import SMALLTALK_MARKERS, reply_kind_is_right

    text = reply.lower()
    if kind in ("facts", "followup", "capital"):
        return answer_is_right(reply, accepted)
    if kind == "self":
        return any(marker in text for marker in SELF_MARKERS)
    if kind == "feelings":
        return any(re.search(rf"\b{marker}\b", text) for marker in FEELING_MARKERS[mood])
    if kind == "likes":
        return any(re.search(rf"\b{marker}\b", text) for marker in LIKES_MARKERS)
    if kind == "jokes":
        return is_joke(reply)
    if kind == "languages":
        return is_language_reply(reply)
    if kind in SMALLTALK_MARKERS:
        return reply_kind_is_right(reply, kind)
    raise ValueError(f"no check for kind {kind!r}")
