"""Calibrations cached per host fingerprint and model digest: hit, miss, invalidation."""

from __future__ import annotations

import json

from mner.precision_choice.cache import ChoiceCache, cache_dir, host_fingerprint, model_digest
from mner.precision_choice.choice import PrecisionChoice, Timing

CPUINFO = "model name\t: Test CPU 9000\nflags\t\t: fpu avx2 avx512_vnni avx512_bf16\n"
CHOICE = PrecisionChoice("int8", "measured", (Timing("fp32", 64, (0.3,)), Timing("int8", 64, (0.2,))),
                         ("fp32", "bf16", "int8"))
CANDIDATES = ["fp32", "bf16", "int8"]


def test_cache_dir_follows_mner_cache_dir_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("MNER_CACHE_DIR", str(tmp_path / "m"))
    assert cache_dir() == tmp_path / "m" / "precision"
    monkeypatch.delenv("MNER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "mner" / "precision"
    assert cache_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_host_fingerprint_names_cpu_flags_torch_and_threads():
    host = host_fingerprint(threads=2, cpuinfo=CPUINFO)
    assert host["cpu"] == "Test CPU 9000" and host["threads"] == 2
    assert host["flags"] == ["avx2", "avx512_bf16", "avx512_vnni", "fpu"]
    assert host["torch"]


def test_hit_after_put_and_the_choice_says_cached(tmp_path, tiny_model_dir):
    cache = ChoiceCache(tmp_path / "c")
    host, digest = host_fingerprint(threads=1, cpuinfo=CPUINFO), model_digest(tiny_model_dir)
    assert cache.get(host, digest, CANDIDATES) is None  # miss
    path = cache.put(host, digest, CANDIDATES, CHOICE)
    assert path.parent == tmp_path / "c" and json.loads(path.read_text())["choice"]["precision"] == "int8"
    assert not [p for p in (tmp_path / "c").iterdir() if p.name.startswith(".")]  # atomic: no temporary left behind
    hit = cache.get(host, digest, CANDIDATES)
    assert hit is not None and hit.precision == "int8" and hit.source == "cached" and hit.timings == CHOICE.timings


def test_another_thread_count_torch_or_cpu_is_a_miss(tmp_path, tiny_model_dir):
    cache = ChoiceCache(tmp_path / "c")
    digest = model_digest(tiny_model_dir)
    host = host_fingerprint(threads=1, cpuinfo=CPUINFO)
    cache.put(host, digest, CANDIDATES, CHOICE)
    assert cache.get(host_fingerprint(threads=2, cpuinfo=CPUINFO), digest, CANDIDATES) is None
    assert cache.get({**host, "torch": "9.9.9"}, digest, CANDIDATES) is None
    assert cache.get(host_fingerprint(threads=1, cpuinfo=CPUINFO.replace(" avx512_bf16", "")), digest,
                     CANDIDATES) is None
    assert cache.get(host, digest, ["fp32", "int8"]) is None


def test_a_changed_model_is_a_miss(tmp_path, tiny_model_dir):
    cache = ChoiceCache(tmp_path / "c")
    host = host_fingerprint(threads=1, cpuinfo=CPUINFO)
    before = model_digest(tiny_model_dir)
    cache.put(host, before, CANDIDATES, CHOICE)
    weights = tiny_model_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes() + b" ")  # retrained, in effect
    after = model_digest(tiny_model_dir)
    assert after != before and cache.get(host, after, CANDIDATES) is None


def test_a_damaged_or_foreign_entry_is_a_miss_and_is_rewritten(tmp_path, tiny_model_dir):
    cache = ChoiceCache(tmp_path / "c")
    host, digest = host_fingerprint(threads=1, cpuinfo=CPUINFO), model_digest(tiny_model_dir)
    path = cache.path_for(host, digest, CANDIDATES)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert cache.get(host, digest, CANDIDATES) is None
    path.write_text(json.dumps({"format": "something.else.v9", "choice": CHOICE.to_dict()}))
    assert cache.get(host, digest, CANDIDATES) is None
    cache.put(host, digest, CANDIDATES, CHOICE)
    assert cache.get(host, digest, CANDIDATES).precision == "int8"
