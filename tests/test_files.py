"""Saving and reading user files (nnxp.files): atomic through crashes and SIGKILL, symlinks
followed, modes kept, stale temporary files removed, and every file-system fault a clear nnxp
error that leaves the old file whole.  Running as root makes permission bits meaningless, so
permission, read-only and full-disk faults are simulated by making the system call fail."""

import errno
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnxp
from nnxp import files
from conftest import params_numpy

SIZES = [6, 5, 3]


def temporaries(folder):
    return sorted(e for e in os.listdir(folder) if ".nnxp-tmp-" in e)


def same_params(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(params_numpy(a), params_numpy(b)))


@pytest.fixture
def old(tmp_path):
    """A saved network at tmp_path/net.json, and its bytes."""
    path = tmp_path / "net.json"
    nnxp.Network(SIZES, seed=0).save(path)
    return path, path.read_bytes()


# -- symlinks, modes ---------------------------------------------------------------------------

def test_save_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "real" / "net.json"
    target.parent.mkdir()
    nnxp.Network(SIZES, seed=0).save(target)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    new = nnxp.Network(SIZES, seed=1)
    new.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert same_params(nnxp.load(target), new)
    assert temporaries(tmp_path) == [] and temporaries(target.parent) == []


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "made.json")
    nnxp.Network(SIZES, seed=1).save(link)
    assert link.is_symlink() and (tmp_path / "made.json").is_file()


def test_a_symlink_loop_is_a_clear_error(tmp_path):
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    with pytest.raises(nnxp.FileError, match="symlink loop") as info:
        nnxp.Network(SIZES).save(loop)
    assert info.value.errno == errno.ELOOP and loop.is_symlink()


def test_a_path_ending_in_a_separator_is_a_folder_not_a_file(tmp_path):
    """"results/" was saved as a file named "results" (realpath drops the slash), where
    Python's own open refuses the path; nothing is written now, by the checks or the save."""
    where = str(tmp_path / "results") + os.sep
    with pytest.raises(nnxp.FileError, match="names a folder") as info:
        files.check_writable(where, "search results")
    assert info.value.errno == errno.EISDIR
    with pytest.raises(nnxp.FileError, match="names a folder"):
        nnxp.Network(SIZES).save(where)
    with pytest.raises(nnxp.FileError, match="names a folder"):
        files.atomic_write_text(where, "{}")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_to_be_made_is_tried_by_the_check(tmp_path):
    """A folder the first save would make: the check makes and removes a probe folder of its
    own name where it would go (it asked only os.access of the nearest existing folder, which
    says yes to root where no folder can be made, as in /proc: a benchmark ran for minutes,
    then lost its results).  Nothing is left, and no folder another check or save uses is
    ever removed (a check that made and removed the folder itself refused 25-49 of 400-800
    checks and saves running at once in a new folder: the sixth sweep)."""
    where = tmp_path / "a" / "b" / "results.json"
    assert files.check_writable(where) == str(where)
    assert list(tmp_path.iterdir()) == []
    if os.path.isdir("/proc/self"):  # Linux: no folder can be made in /proc, even by root
        for where in ("/proc/no-such-process/a/results.json", "/proc/version"):
            with pytest.raises(nnxp.FileError, match="'/proc' takes no new files"):
                files.check_writable(where)  # (was: "its folder does not exist")
    assert not os.path.exists("/proc/no-such-process")


def test_checks_and_saves_at_once_in_a_new_folder_all_succeed(tmp_path):
    """Threads checking and saving in one folder that does not exist yet (a job array's
    runs/): a check that made, probed and removed the folder refused others mid-way."""
    from concurrent.futures import ThreadPoolExecutor
    folder = tmp_path / "runs"

    def one(i):
        where = folder / f"run{i}.json"
        files.check_writable(where)
        files.atomic_write_text(where, "{}")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(400)))
    assert len(list(folder.iterdir())) == 400


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o640, 0o444])
def test_an_existing_files_mode_is_kept(old, mode):
    path, _ = old
    path.chmod(mode)
    nnxp.Network(SIZES, seed=1).save(path)
    assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_follows_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        nnxp.Network(SIZES).save(tmp_path / "new.json")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o666 & ~umask


# -- stale temporary files ---------------------------------------------------------------------

def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # reaped: the pid now names no process
    return child.pid


def test_stale_temporaries_of_the_same_target_are_removed(old, tmp_path):
    path, _ = old
    prefix = ".net.json.nnxp-tmp-"
    host = files._HOST
    other_host = "0" * 8 if host != "0" * 8 else "1" * 8
    old_name = f"{prefix}{other_host}-1-0000beef"
    cases = {  # name -> removed by the next save?
        f"{prefix}{host}-{dead_pid()}-0000abcd": True,         # SIGKILLed save on this host
        f"{prefix}{host}-{os.getppid()}-0000abcd": False,      # a live process's save
        f"{prefix}{other_host}-{dead_pid()}-0000abcd": False,  # other host: the age rule only
        old_name: True,                                         # ... which removes this one
        f".other.json.nnxp-tmp-{host}-{dead_pid()}-0000abcd": False,  # another target's
        f"{prefix}not-ours": False,                             # not nnxp's naming
        "unrelated.txt": False,
    }
    for name in cases:
        (tmp_path / name).write_text("partial")
    hours_ago = time.time() - files.STALE_SECONDS - 60
    os.utime(tmp_path / old_name, (hours_ago, hours_ago))
    nnxp.Network(SIZES, seed=1).save(path)
    for name, removed in cases.items():
        assert (tmp_path / name).exists() != removed, name
    assert same_params(nnxp.load(path), nnxp.Network(SIZES, seed=1))


def test_long_names_keep_temporary_names_short(tmp_path):
    path = tmp_path / ("n" * 240 + ".json")
    nnxp.Network(SIZES).save(path)
    assert path.is_file() and temporaries(tmp_path) == []


# -- faults: clear errors, old file whole, no temporary left ------------------------------------

def assert_untouched(path, before):
    assert path.read_bytes() == before
    assert temporaries(path.parent) == []


def test_saving_onto_a_directory(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(nnxp.FileError, match="is a directory") as info:
        nnxp.Network(SIZES).save(tmp_path / "d")
    assert info.value.errno == errno.EISDIR and isinstance(info.value, OSError)
    assert os.listdir(tmp_path / "d") == [] and temporaries(tmp_path) == []


def test_saving_under_a_file(old):
    path, before = old
    with pytest.raises(nnxp.FileError, match=r"net.json' is a file, not a folder"):
        nnxp.Network(SIZES).save(path / "sub" / "net.json")
    assert_untouched(path, before)


def test_saving_onto_a_device_is_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(nnxp.FileError, match="not a regular file"):
        nnxp.Network(SIZES).save(tmp_path / "fifo")
    assert stat.S_ISFIFO((tmp_path / "fifo").stat().st_mode)


def failing(call, code, when=lambda *args: True):
    """A stand-in for os.<call> that fails with errno ``code`` when ``when(*args)``."""
    real = getattr(os, call)

    def fake(*args, **kwargs):
        if when(*args):
            raise OSError(code, os.strerror(code))
        return real(*args, **kwargs)
    return fake


def is_temporary(name, *args):
    return ".nnxp-tmp-" in os.fspath(name)


@pytest.mark.parametrize("call,code,when,message", [
    ("write", errno.ENOSPC, None, "the disk is full"),
    ("write", errno.EDQUOT, None, "quota"),
    ("fsync", errno.EIO, None, "input/output error"),
    ("open", errno.EROFS, is_temporary, "the file system is read-only"),
    ("open", errno.EACCES, is_temporary, "permission denied: nnxp cannot write in the folder"),
    ("replace", errno.EXDEV, None, "cross-device link"),
], ids=["ENOSPC", "EDQUOT", "EIO", "EROFS", "EACCES", "EXDEV"])
def test_file_system_faults_leave_the_old_file(old, monkeypatch, call, code, when, message):
    path, before = old
    monkeypatch.setattr(os, call, failing(call, code, when or (lambda *args: True)))
    with pytest.raises(nnxp.FileError, match=message) as info:
        nnxp.Network(SIZES, seed=1).save(path)
    monkeypatch.undo()
    assert info.value.errno == code and info.value.filename == str(path)
    assert str(path) in str(info.value) and "unchanged" in str(info.value)
    assert_untouched(path, before)


def test_an_interrupt_during_the_write_removes_the_temporary(old, monkeypatch):
    path, before = old

    def interrupted(fd, data):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        nnxp.Network(SIZES, seed=1).save(path)
    monkeypatch.undo()
    assert_untouched(path, before)


def test_history_save_is_atomic_too(tmp_path, monkeypatch):
    net = nnxp.Network(SIZES, seed=0)
    h = net.SGD((np.ones((8, 6)), np.arange(8) % 3), 1, 4, 0.1)
    h.save(tmp_path / "h.json")
    before = (tmp_path / "h.json").read_bytes()
    monkeypatch.setattr(os, "write", failing("write", errno.ENOSPC))
    with pytest.raises(nnxp.FileError, match="disk is full"):
        h.save(tmp_path / "h.json")
    monkeypatch.undo()
    assert_untouched(tmp_path / "h.json", before)


# -- check_writable ----------------------------------------------------------------------------

@pytest.mark.parametrize("value,error", [
    (42, nnxp.InputTypeError), (b"net.json", nnxp.InputTypeError), (None, nnxp.InputTypeError),
    (["net.json"], nnxp.InputTypeError), ("", nnxp.ConfigError), ("a\0b", nnxp.ConfigError),
])
def test_check_writable_refuses_non_paths(tmp_path, monkeypatch, value, error):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match="path"):
        files.check_writable(value, "checkpoint")
    with pytest.raises(error):
        nnxp.Network(SIZES).save(value)
    assert os.listdir(tmp_path) == []  # no file ./42


def test_check_writable_accepts_creatable_paths_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert files.check_writable("net.json") == str(tmp_path / "net.json")
    assert files.check_writable(tmp_path / "new" / "deeper" / "c.json") == \
        str(tmp_path / "new" / "deeper" / "c.json")
    assert os.listdir(tmp_path) == []  # no probe, no folder made


def test_check_writable_refuses_what_a_save_would_fail_on(old, tmp_path, monkeypatch):
    path, _ = old
    (tmp_path / "d").mkdir()
    with pytest.raises(nnxp.FileError, match="is a directory"):
        files.check_writable(tmp_path / "d", "checkpoint")
    with pytest.raises(nnxp.FileError, match="is a file, not a folder"):
        files.check_writable(path / "x" / "c.json", "checkpoint")
    monkeypatch.setattr(os, "open", failing("open", errno.EROFS, is_temporary))
    with pytest.raises(nnxp.FileError, match="read-only"):
        files.check_writable(tmp_path / "c.json", "checkpoint")
    monkeypatch.setattr(os, "open", failing("open", errno.ENOSPC, is_temporary))
    with pytest.raises(nnxp.FileError, match="disk is full"):
        files.check_writable(tmp_path / "c.json", "checkpoint")
    monkeypatch.undo()
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    with pytest.raises(nnxp.FileError, match="permission denied"):
        files.check_writable(tmp_path / "new" / "c.json", "checkpoint")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["d", "net.json"]


@pytest.mark.parametrize("checkpoint,error,match", [
    (42, nnxp.InputTypeError, "checkpoint path must be a str or os.PathLike"),
    (".", nnxp.FileError, "cannot save the checkpoint at .*: it is a directory"),
    ("net.json/run.json", nnxp.FileError, "net.json' is a file, not a folder"),
])
def test_a_bad_checkpoint_path_is_refused_before_the_first_epoch(old, tmp_path, monkeypatch,
                                                                 checkpoint, error, match):
    monkeypatch.chdir(tmp_path)
    epochs = []
    with pytest.raises(error, match=match):
        nnxp.Network(SIZES).SGD((np.ones((8, 6)), np.arange(8) % 3), 2, 4, 0.1,
                                checkpoint=checkpoint,
                                callbacks=[lambda record, net: epochs.append(record)])
    assert epochs == [] and sorted(os.listdir(tmp_path)) == ["net.json"]


# -- reading -----------------------------------------------------------------------------------

def test_load_refuses_what_is_not_a_readable_file(tmp_path, monkeypatch):
    with pytest.raises(nnxp.DataError, match="is a directory, not a network file"):
        nnxp.load(".")
    with pytest.raises(nnxp.DataError, match="no network file at"):
        nnxp.load(tmp_path / "missing.json")
    (tmp_path / "f").write_text("{}")
    with pytest.raises(nnxp.DataError, match="a part of its folder path is a file"):
        nnxp.load(tmp_path / "f" / "net.json")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(nnxp.DataError, match="not a regular file"):
        nnxp.load(tmp_path / "fifo")  # and does not block waiting for a writer
    with pytest.raises(nnxp.InputTypeError, match="str or os.PathLike"):
        nnxp.load(42)


def test_unreadable_file(old, monkeypatch):
    path, _ = old

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(files, "open", denied, raising=False)
    with pytest.raises(nnxp.DataError, match="cannot read the network file .* Permission denied"):
        nnxp.load(path)


def test_a_file_too_large_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        f.truncate(10_000)  # sparse: no disk used
    opened = []
    monkeypatch.setattr(files, "open", lambda *a, **k: opened.append(a), raising=False)
    with pytest.raises(nnxp.DataError, match=r"big.json' is 10,000 bytes; .* \(max_bytes=9999\)"):
        nnxp.load(path, max_bytes=9999)
    assert opened == []
    with pytest.raises(nnxp.ConfigError, match="max_bytes must be a positive"):
        nnxp.load(path, max_bytes=-1)


@pytest.mark.parametrize("raw,match", [
    (b'{"sizes": [2, 2]\xff}', "not UTF-8 text .*0xff at position 16"),
    (b"\xef\xbb\xbf{}", "not a JSON network file"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b"1" * 5000, "not a JSON network file"),
    (b"", "not a JSON network file"),
])
def test_undecodable_files(tmp_path, raw, match):
    (tmp_path / "bad.json").write_bytes(raw)
    with pytest.raises(nnxp.DataError, match=match):
        nnxp.load(tmp_path / "bad.json")


# -- SIGKILL mid-save --------------------------------------------------------------------------

ZYGOTE = r"""
import json, os, sys, time
import nnxp
from nnxp.files import atomic_write_text
path, sizes = sys.argv[1], json.loads(sys.argv[2])
texts = []                        # the two networks' files, serialized once (as save() does)
for seed in (1, 2):
    nnxp.Network(sizes, seed=seed, dtype="float64").save(path)
    with open(path, encoding="utf-8") as f:
        texts.append(f.read())
start = time.perf_counter()
for text in texts[::-1]:
    atomic_write_text(path, text)
print((time.perf_counter() - start) / 2, flush=True)
for line in sys.stdin:            # one child per line: it writes B, A, B, ... until killed
    pid = os.fork()
    if pid == 0:
        i = 1
        while True:
            atomic_write_text(path, texts[i % 2])
            i += 1
    print(pid, flush=True)
    os.waitpid(pid, 0)            # reap it, as a shell would: its pid then names no process
    print("reaped", flush=True)
"""


def test_sigkill_mid_save_leaves_the_old_or_the_new_file(tmp_path):
    """Real processes killed with SIGKILL at random moments while saving an 80k-parameter
    network (1.8 MB) over and over: the file is always one of the two networks' files, complete
    (byte for byte, and each loads as its network), and the next save removes what the killed
    process left.  The children write pre-serialized text (what ``save`` writes), so that the
    kills land in the write, not in json.dumps."""
    sizes, rounds = [784, 100, 10], 30
    path = tmp_path / "net.json"
    texts = []
    with nnxp.use_backend("numpy"):
        for seed in (1, 2):
            net = nnxp.Network(sizes, seed=seed, dtype="float64")
            net.save(tmp_path / "scratch.json")
            assert same_params(nnxp.load(tmp_path / "scratch.json"), net)
            texts.append((tmp_path / "scratch.json").read_bytes())
    (tmp_path / "scratch.json").unlink()
    root = os.path.dirname(os.path.dirname(os.path.abspath(nnxp.__file__)))
    env = dict(os.environ, NNXP_BACKEND="numpy", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(path), json.dumps(sizes)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    rng, pid, mid_write, seen = random.Random(), None, 0, []
    try:
        save_seconds = float(zygote.stdout.readline())
        for _ in range(rounds):
            zygote.stdin.write("go\n")
            zygote.stdin.flush()
            pid = int(zygote.stdout.readline())
            time.sleep(rng.uniform(0, 4 * save_seconds))
            os.kill(pid, signal.SIGKILL)
            assert zygote.stdout.readline().strip() == "reaped"
            pid = None
            mid_write += bool(temporaries(tmp_path))
            content = path.read_bytes()
            assert content in texts, "the file is neither the old nor the new network's"
            seen.append(texts.index(content))
            files.atomic_write_text(path, texts[0].decode())  # the next save
            assert temporaries(tmp_path) == []
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        zygote.kill()
        zygote.wait()
    print(f"{rounds} kills, {mid_write} while a temporary file existed; a save takes "
          f"{1000 * save_seconds:.0f} ms; old file found {seen.count(0)} times, new "
          f"{seen.count(1)}")
    assert sorted(os.listdir(tmp_path)) == ["net.json"]
    assert mid_write >= 1, "no kill landed while a temporary file existed: nothing was tested"


# -- any argument ------------------------------------------------------------------------------

names = st.text(alphabet=st.characters(blacklist_characters="/"), min_size=0, max_size=20)
anything = (st.none() | st.booleans() | st.integers() | st.floats() | st.binary(max_size=8)
            | st.lists(st.integers(), max_size=3) | st.sampled_from([object(), int, {1: 2}]))


@settings(max_examples=200, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=names | anything, dtype=st.none() | st.text(max_size=8) | anything,
       max_bytes=st.none() | st.integers() | anything)
def test_any_argument_to_load_or_save_meets_only_nnxp_errors(tmp_path, path, dtype, max_bytes):
    where = tmp_path / path if isinstance(path, str) and path not in ("", ".", "..") else path
    kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
    try:
        nnxp.load(where, dtype=dtype, **kwargs)
    except nnxp.NNXPError:
        pass
    try:
        nnxp.Network([2, 2]).save(where)
    except nnxp.NNXPError:
        return
    if isinstance(where, os.PathLike):
        assert nnxp.load(where).sizes == [2, 2]


@pytest.mark.parametrize("path", [p for p in ("/dev/zero", "/dev/null", "/proc/self/status",
                                            "/etc/passwd", "/", "/proc/self/mem")
                                  if os.path.exists(p)])
def test_system_files_are_refused(path):
    with pytest.raises(nnxp.DataError):
        nnxp.load(path)


def test_a_file_too_large_is_said_in_bytes_where_the_rounded_sizes_agree(tmp_path):
    """"is 3.7 MiB; nnxp reads a expanded-MNIST cache of at most 3.7 MiB" (the sixth sweep):
    the two sizes read alike, and "a expanded"."""
    big = tmp_path / "cache.bin"
    big.write_bytes(b"x" * (3_900_000 + 10))
    with pytest.raises(nnxp.DataError, match=r"is 3,900,010 bytes; nnxp reads an "
                                             r"expanded-MNIST cache of at most 3,900,000 bytes"):
        files.read_bytes(big, max_bytes=3_900_000, what="expanded-MNIST cache")
