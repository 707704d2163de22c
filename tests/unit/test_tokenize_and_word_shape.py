from mner.data.tokenize import tokenize
from mner.modules.word_shape import SHAPES, word_shape


def test_tokenize_like_the_twitter_releases():
    assert tokenize("RT @nba: Kawhi wins #NBAAwards! http://t.co/x1") == [
        "RT", "@nba", ":", "Kawhi", "wins", "#", "NBAAwards", "!", "http://t.co/x1"]
    assert tokenize("北京欢迎你") == ["北", "京", "欢", "迎", "你"]
    assert tokenize("") == []


def test_word_shapes():
    shapes = {w: SHAPES[word_shape(w)] for w in ["paris", "Paris", "NBA", "iPhone", "2017", "G7", "!", "#nba",
                                                   "@bob", "http://t.co/x", "😀", "北"]}
    assert shapes == {"paris": "lower", "Paris": "title", "NBA": "upper", "iPhone": "mixed", "2017": "digit",
                      "G7": "has_digit", "!": "punct", "#nba": "hashtag", "@bob": "mention",
                      "http://t.co/x": "url", "😀": "emoji_or_other", "北": "emoji_or_other"}
