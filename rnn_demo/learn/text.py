"""The Learn tab's texts in English and 简体中文: ui/text.py adds them to its STRINGS as `learn.<key>`."""

TEXT = {
    "tab": ("Learn", "学习"),  # key: (English, 简体中文)
    "intro": ("The ideas of a recurrent neural network, each tried live on small models trained by this project.",
              "循环神经网络的核心思想，每一个都可以在本项目训练的小模型上现场尝试。"),
    "shapes": ("Four shapes", "四种结构"),
    "shapes_help": ("Blue boxes are inputs, green the recurrent layer (the arrow to the right carries its hidden "
                    "state to the next step), orange the outputs.",
                    "蓝色方框是输入，绿色是循环层（向右的箭头把隐藏状态传到下一步），橙色是输出。"),
    "one_to_many": ("### One-to-many: a caption for a drawn scene (CNN encoder → GRU decoder)",
                    "### 一对多：为绘制的场景写说明（卷积编码器 → 门控循环单元解码器）"),
    "many_to_one": ("### Many-to-one: which kind of play a speech comes from (GRU)", "### 多对一：一段台词出自哪类戏剧（门控循环单元）"),
    "one_to_one": ("### One-to-one, the contrast: the same question without recurrence (mean of the embeddings → MLP)",
                   "### 一对一（对照）：不用循环回答同一个问题（嵌入的平均 → 多层感知机）"),
    "many_to_many": ("Many-to-many: the Shakespeare tab (a language model: a token in, the next token out at "
                     "every step) and the Chatbot tab (an encoder-decoder: a sentence in, another out). The Fill the "
                     "blank tab is many-to-one twice over: a GRU reads the words before the gap, another the words "
                     "after it backwards, and one word comes out.",
                     "多对多：莎士比亚标签页（语言模型：每一步读入一个词元、输出下一个）和聊天机器人标签页"
                     "（编码器-解码器：读入一句，写出另一句）。填空标签页是两个多对一：一个 GRU 读空白前的词，"
                     "另一个倒着读空白后的词，最后输出一个词。"),
    "random_scene": ("Random scene", "随机场景"), "compose": ("Draw and caption", "绘制并生成说明"),
    "caption": ("Caption, word by word", "说明（逐词生成）"), "scene": ("Scene", "场景"),
    "shape": ("Shape", "形状"), "colour": ("Colour", "颜色"), "place": ("Place (one object)", "位置（单个物体）"),
    "second": ("Second shape (none: one object)", "第二个形状（无：只有一个物体）"),
    "second_colour": ("Second colour", "第二个颜色"), "relation": ("Relation (two objects)", "关系（两个物体）"),
    "seed": ("Seed", "种子"), "speech": ("A speech", "一段台词"), "classify": ("Which genre?", "哪种类型？"),
    "gru_says": ("GRU (many-to-one)", "门控循环单元（多对一）"), "bag_says": ("No recurrence (one-to-one)", "无循环（一对一）"),
    "unrolled": ("The recurrence, unrolled", "展开的循环"),
    "unrolled_help": ("Type a sentence: each column is the Shakespeare GRU's hidden state after one token (rows: "
                      "units of both layers, red +1, blue −1). Below: units whose activation follows a feature of "
                      "the text, found by correlation over held-out plays.",
                      "输入一句话：每一列是莎士比亚门控循环单元读完一个词元后的隐藏状态（行：两层的单元，红色 +1，"
                      "蓝色 −1）。下方：激活随文本某个特征变化的单元，通过在留出剧本上计算相关系数找到。"),
    "sentence": ("Sentence", "句子"), "sort_by": ("Sort units by", "单元排序依据"), "show": ("Show", "显示"),
    "roles": ("Units with a role", "有明确作用的单元"),
    "gradients": ("Vanishing gradients, measured", "梯度消失的测量"),
    "gradients_help": ("The copy task: remember the marked symbol seen N steps before the end. Left: the gradient "
                       "norm of the loss with respect to each earlier hidden state (log scale; a plain SimpleRNN's "
                       "fades fastest: vanishing gradients; LSTM and GRU gates keep it). Right: accuracy against N.",
                       "复制任务：记住 N 步之前被标记的符号。左：损失对每个更早隐藏状态的梯度范数（对数坐标；"
                       "普通 SimpleRNN 衰减最快，即梯度消失；长短期记忆网络和门控循环单元的门保住了它）。右：准确率与 N 的关系。"),
    "distance": ("N (steps back) to recompute here", "在此重新计算的 N（回溯步数）"),
    "recompute": ("Recompute", "重新计算"),
    "embeddings": ("Embeddings", "嵌入"),
    "embeddings_help": ("Nearest pieces of a word in the Shakespeare model's embedding space (cosine similarity; a "
                        "word of several pieces is their mean), and a PCA map of its most frequent pieces.",
                        "莎士比亚模型嵌入空间中与一个词最近的词片（余弦相似度；多个词片组成的词取其平均），"
                        "以及最常见词片的主成分分析二维图。"),
    "word": ("Word", "词"), "neighbours": ("Nearest neighbours", "最近邻"), "map": ("Draw the map", "绘制地图"),
    "choices": ("Training choices", "训练选择"),
    "choices_help": ("Loss curves of one small model (the bag-of-embeddings genre classifier) trained with SGD, "
                     "SGD with momentum and Adam, with and without dropout. Circles: where early stopping "
                     "(patience in the file) would stop.",
                     "同一个小模型（嵌入平均的类型分类器）分别用随机梯度下降、动量法和 Adam 训练，并比较有无丢弃法的损失"
                     "曲线。圆圈：早停（耐心值见文件）会停下的位置。"),
    "kinds": ("Kinds on the map, by rules on a piece's text: punctuation (only punctuation marks); name (a "
              "capitalised word that is a word of some speaker's name in the plays); verb? (a lower-case word of 5+ "
              "letters ending in -eth, -est, -ing or -ed: a suffix rule, hence the question mark); other.",
              "地图上的类别按词片文本的规则划分：标点（只含标点符号）；人名（首字母大写、且是剧中某个说话人名字的一部分的词）；"
              "动词?（以 -eth、-est、-ing 或 -ed 结尾的 5 个字母以上的小写词：后缀规则，所以带问号）；其他。"),
    "load": ("Show the curves", "显示曲线"),
    # Choices of the dropdowns and radios (the value stays English: it is the caption model's own word)
    "choice.circle": ("circle", "圆形"), "choice.square": ("square", "正方形"), "choice.triangle": ("triangle", "三角形"),
    "choice.red": ("red", "红色"), "choice.green": ("green", "绿色"), "choice.blue": ("blue", "蓝色"),
    "choice.yellow": ("yellow", "黄色"),
    "choice.top": ("top", "上方"), "choice.bottom": ("bottom", "下方"), "choice.left": ("left", "左边"),
    "choice.right": ("right", "右边"), "choice.centre": ("centre", "中间"),
    "choice.none": ("none", "无"), "choice.left of": ("left of", "在左边"), "choice.above": ("above", "在上方"),
    "choice.variance": ("variance", "方差"), "choice.activity": ("activity", "活跃度"),
    # Words drawn in the diagrams and charts (server-side, in the visitor's language)
    "diagram.img": ("img", "图像"), "diagram.word": ("word", "词"), "diagram.tok": ("tok", "词元"),
    "diagram.genre": ("genre", "类型"), "diagram.mean": ("mean", "平均"), "diagram.next": ("next", "下一个"),
    "diagram.one-to-one": ("one-to-one", "一对一"), "diagram.one-to-many": ("one-to-many", "一对多"),
    "diagram.many-to-one": ("many-to-one", "多对一"), "diagram.many-to-many": ("many-to-many", "多对多"),
    "genre.comedy": ("comedy", "喜剧"), "genre.tragedy": ("tragedy", "悲剧"), "genre.history": ("history", "历史剧"),
    "kind.punctuation": ("punctuation", "标点"), "kind.name": ("name", "人名"), "kind.verb?": ("verb?", "动词?"),
    "kind.other": ("other", "其他"),
    "feature.newline_next": ("the next token is a line break", "下一个词元是换行"),
    "feature.in_speaker": ("the token is on a speaker's name line (e.g. `ROMEO:`)",
                           "该词元在说话人名字那一行（例如 `ROMEO:`）"),
    "feature.punctuation": ("the token holds a punctuation mark", "该词元含有标点符号"),
    "figure.genre": ("**{model}**: held-out accuracy {accuracy}, balanced {balanced} on {speeches} speeches of {plays}",
                     "**{model}**：留出集准确率 {accuracy}，平衡准确率 {balanced}，共 {speeches} 段台词，出自 {plays}"),
    "figure.genres": ("Genres: {source}.", "类型依据：{source}。"),
    "figure.heatmap": ("{tokens} tokens × {units} units", "{tokens} 个词元 × {units} 个单元"),
    "figure.roles": ("Measured over {tokens} tokens of held-out plays (Pearson r of unit and feature):",
                     "在留出剧本的 {tokens} 个词元上测得（单元与特征的皮尔逊相关系数 r）："),
    "figure.steps_back": ("steps before the end", "距结尾的步数"),
    "figure.accuracy": ("accuracy", "准确率"),
    "figure.accuracy_by_n": ("held-out accuracy vs N", "留出集准确率与 N 的关系"),
    "figure.trained": ("{cell} trained", "{cell}（训练后）"), "figure.at_start": ("{cell} at start", "{cell}（训练前）"),
    "figure.recomputed_cell": ("{cell} (accuracy {accuracy})", "{cell}（准确率 {accuracy}）"),
    "figure.recomputed": ("recomputed now, N = {distance}", "刚刚重新计算，N = {distance}"),
    "figure.copy_source": ("Made by `{command}`; {units} units, {symbols} symbols.",
                           "由 `{command}` 生成；{units} 个单元，{symbols} 个符号。"),
    "figure.map": ("{count} commonest pieces, PCA (variance explained {first}, {second})",
                   "{count} 个最常见的词片，主成分分析（解释方差 {first}、{second}）"),
    "figure.best_epoch": ("best epoch (restored)", "最佳轮次（已恢复）"),
    "figure.stops_here": ("early stopping stops here", "早停在此停止"),
    "figure.epoch": ("epoch", "轮次"), "figure.loss": ("loss", "损失"),
    "figure.training_loss": ("training loss", "训练损失"),
    "figure.validation_loss": ("validation loss (○ early stopping)", "验证损失（○ 早停）"),
    "figure.stop": ("{name}: best epoch {best}, stops at {stopped}", "{name}：最佳轮次 {best}，在第 {stopped} 轮停止"),
    "figure.choices_source": ("Made by `{command}` ({model}). {stops}.", "由 `{command}` 生成（{model}）。{stops}。"),
    "near.piece": ("piece", "词片"), "near.cosine": ("cosine", "余弦相似度"),
    # Refusals written by the tab itself
    "error.empty": ("type a {what} first", "请先输入{what}"),
    "error.too_long": ("the {what} is {count} characters; at most {limit}", "{what}有 {count} 个字符；最多 {limit} 个"),
    "error.order": ("sort the units by variance or activity", "请按方差或活跃度排序单元"),
    "error.seed": ("the seed must be between 0 and {high}", "种子必须在 0 到 {high} 之间"),
    "what.speech": ("speech", "台词"), "what.sentence": ("sentence", "句子"), "what.word": ("word", "词"),
}

# The English sentences learn/ writes (scenes.check_scene), as str.format templates, and their Chinese, and the
# names its messages give to what they check: ui/text.py adds them to its ENGINE_MESSAGES and FIELD_NAMES.
FIELD_NAMES = {"the distance": "距离"}  # copy_task.check_distance: "{name} must be a whole number, …"
MESSAGES = (
    ("unknown object {colour} {shape}: shapes are {shapes}, colours {colours}",
     "未知物体 {colour} {shape}：形状可选 {shapes}，颜色可选 {colours}"),
    ("place must be one of {choices}, not {value}", "位置必须是这些之一：{choices}，不能是 {value}"),
    ("relation must be one of {choices}, not {value}", "关系必须是这些之一：{choices}，不能是 {value}"),
)
