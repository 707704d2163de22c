import pytest

from mner.ablations import ablate
from mner.data.post import Post, Region


def _posts():
    return [Post(str(i), ["w"], ["O"], images=[f"{i}.jpg"], visual_text={"caption": f"c{i}"},
                 regions=[Region((0, 0, 1, 1))]) for i in range(5)]


def test_zero_image_and_no_visual_text_remove_one_side_each():
    posts = _posts()
    zero = ablate(posts, "zero-image")
    assert all(p.images == [] and p.regions == [] and p.visual_text for p in zero)
    no_text = ablate(posts, "no-visual-text")
    assert all(p.visual_text == {} and p.images for p in no_text)
    assert posts[0].images == ["0.jpg"]  # originals untouched


def test_shuffle_moves_the_whole_visual_side_to_another_post():
    shuffled = ablate(_posts(), "shuffle-image", seed=3)
    for i, p in enumerate(shuffled):
        donor = p.images[0].split(".")[0]
        assert donor != str(i) and p.visual_text["caption"] == f"c{donor}"
    assert sorted(p.images[0] for p in shuffled) == [f"{i}.jpg" for i in range(5)]
    with pytest.raises(ValueError, match="unknown ablation"):
        ablate(_posts(), "nope")
