"""`griffin run` under torchrun, as README.md's "Several GPUs and hosts" writes the launch line,
and the processes of a launch: shared by tests/cli/test_run_ranks.py and scripts/scale_out.py."""
import os

# NVLink multicast stays off on the machines this project is lent (README.md, the same section):
# every launch these helpers make carries the variables, and torchrun passes them on.
NO_MULTICAST = {"NCCL_NVLS_ENABLE": "0", "TORCH_SYMM_MEM_DISABLE_MULTICAST": "1",
                "NVSHMEM_DISABLE_NVLS": "1"}


def launch_line(torchrun, griffin, ranks, *args):
    """README.md's one-host launch line, with `ranks` processes."""
    return [torchrun, "--standalone", f"--nproc-per-node={ranks}", "--no-python", griffin, "run",
            *args]


def launch_env():
    return dict(os.environ, **NO_MULTICAST)


def children(pid):
    """Processes whose parent is `pid` (from /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry))
    return kids


def rank_of(pid):
    """The RANK a launched process was given, or -1."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        return int(env.get(b"RANK", b"-1"))
    except OSError:
        return -1


def ranks_of(launcher_pid):
    """{rank: pid} of the processes torchrun started."""
    return {rank_of(k): k for k in children(launcher_pid)}
