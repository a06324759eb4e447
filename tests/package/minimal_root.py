"""A minimal Debian bookworm root directory to install the package and the image's contents into,
and the means to run programs in it without changing the machine around it.

The root is what mmdebstrap makes of bookworm's essential and required packages (--variant=minbase):
what debian:bookworm-slim is built from, so nothing the gateway needs is there unless a package
brings it. Programs run chrooted in a mount namespace of their own, where /proc (the gateway finds
its modules through /proc/self/exe) and any volume are mounted; the mounts go with the namespace.
Needs root, mmdebstrap and unshare (util-linux).
"""

import json
import os
import shlex
import socket
import subprocess
import time
import urllib.error
import urllib.request

# What a fresh install or purge may change besides the package's own files: the package manager's
# databases, caches and logs, the linker cache, and the mount points of running programs.
VOLATILE = ("proc", "dev", "sys", "run", "tmp", "var/cache/apt", "var/lib/apt", "var/lib/dpkg", "var/log",
            "var/cache/debconf", "var/cache/ldconfig", "etc/ld.so.cache")

SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# The suites of the machine's apt sources that the root takes, main only: third-party repositories
# (Docker's, NodeSource's, PostgreSQL's) may be out of reach, and a root of bookworm needs none.
DEBIAN_SUITES = {"bookworm", "bookworm-updates", "bookworm-security"}


def debian_sources():
    """The machine's sources of bookworm's own suites, one-line format ("deb URI SUITE main"), from
    /etc/apt/sources.list and the deb822 files of /etc/apt/sources.list.d."""
    entries = []
    if os.path.exists("/etc/apt/sources.list"):
        for line in open("/etc/apt/sources.list"):
            words = line.split("#", 1)[0].split()
            words = [w for w in words if not w.startswith("[")]  # options such as [signed-by=...]
            if len(words) >= 4 and words[0] == "deb" and "main" in words[3:]:
                entries.append((words[1], words[2]))
    directory = "/etc/apt/sources.list.d"
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        if not name.endswith(".sources"):
            continue
        for stanza in open(os.path.join(directory, name)).read().split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith((" ", "#")):
                    key, value = line.split(":", 1)
                    fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and "main" in fields.get("components", []) \
                    and fields.get("enabled", ["yes"]) != ["no"]:
                entries += [(uri, suite) for uri in fields.get("uris", [])
                            for suite in fields.get("suites", [])]
    lines = [f"deb {uri} {suite} main" for uri, suite in entries if suite in DEBIAN_SUITES]
    if not any(line.endswith(" bookworm main") for line in lines):
        raise AssertionError(f"no bookworm source among the machine's apt sources: {entries}")
    return "\n".join(dict.fromkeys(lines)) + "\n"


def make_root(root):
    """mmdebstrap's minbase bookworm in `root`, from the machine's own Debian sources; the package
    lists are kept, so that apt in the root needs no update to install."""
    subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase", "--mode=root", "--dpkgopt=force-unsafe-io",
                    "--skip=cleanup/apt/lists", "bookworm", root, "-"],
                   input=debian_sources(), text=True, check=True)


def in_root(root, argv, *, user=None, env=None, cwd="/", umask=None, volumes=(), private_dirs=()):
    """The command line that runs `argv` in `root`: as `user` ("uid:gid", else root), with exactly
    `env`, in `cwd`. `volumes` are (host directory, directory in the root) to bind; `private_dirs`
    are (directory, only entry) pairs hidden behind a tmpfs but for that one entry, as systemd shows
    a DynamicUser= service its /var/lib/private/<name> and nothing else of /var/lib/private."""
    # devpts: apt's log of the terminal wants one.
    steps = ['mount -t proc proc "$R/proc"',
             'mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"']
    for source, target in volumes:
        steps.append(f'mount --bind {shlex.quote(source)} "$R"{shlex.quote(target)}')
    for directory, entry in private_dirs:
        kept = f"/tmp/kept-{entry}"
        steps += [f'mkdir -p "$R{kept}"', f'mount --bind "$R{directory}/{entry}" "$R{kept}"',
                  f'mount -t tmpfs -o mode=0755 tmpfs "$R{directory}"', f'mkdir "$R{directory}/{entry}"',
                  f'mount --move "$R{kept}" "$R{directory}/{entry}"']
    if umask is not None:
        steps.append(f"umask {umask}")
    chroot = ["chroot"] + ([f"--userspec={user}", "--groups="] if user else []) + [root]
    environment = [f"{name}={value}" for name, value in (env or {"PATH": SERVICE_PATH}).items()]
    command = chroot + ["/usr/bin/env", "-i", "-C", cwd] + environment + list(argv)
    script = "set -e; " + "; ".join(steps) + '; exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh"] + command, \
        {"R": root, "PATH": SERVICE_PATH}


def run_in_root(root, argv, check=True, capture=False, **options):
    command, env = in_root(root, argv, **options)
    result = subprocess.run(command, env=env, text=True, capture_output=capture)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited with {result.returncode}"
                             + (f":\n{result.stdout}{result.stderr}" if capture else ""))
    return result


def start_in_root(root, argv, log_path, **options):
    """Starts `argv` in `root`; the process's id is the program's own (every step execs the next)."""
    command, env = in_root(root, argv, **options)
    output = open(log_path, "ab")
    return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def snapshot(root):
    """Every path in `root` but the volatile ones, with its type, and the users and groups."""
    paths = set()
    for directory, subdirectories, files in os.walk(root):
        relative = os.path.relpath(directory, root)
        subdirectories[:] = [d for d in subdirectories
                             if os.path.normpath(os.path.join(relative, d)) not in VOLATILE]
        for name in subdirectories + files:
            path = os.path.normpath(os.path.join(relative, name))
            if path in VOLATILE:
                continue
            full = os.path.join(directory, name)
            kind = "link" if os.path.islink(full) else "dir" if os.path.isdir(full) else "file"
            paths.add(f"/{path} ({kind})")
    accounts = {name: open(os.path.join(root, "etc", name)).read() for name in ("passwd", "group", "shadow")}
    return paths, accounts


def installed_packages(root):
    result = run_in_root(root, ["dpkg-query", "-W", "-f=${Package}\n"], capture=True)
    return set(result.stdout.split())


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http(method, url, body=None):
    """(status, body as text) of one request; status 0 when nothing answers."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


def stop(process, timeout):
    """SIGTERM, and the exit status within `timeout` seconds (SIGKILL after it, and a failure)."""
    process.terminate()
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise AssertionError(f"still running {timeout} s after SIGTERM")


def process_ids(pid):
    """The real uid and gid of a running process."""
    with open(f"/proc/{pid}/status") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    return int(fields["Uid"].split()[0]), int(fields["Gid"].split()[0])


def listening_addresses(port):
    """The local addresses of the sockets listening on `port` (IPv4 and IPv6), as /proc/net shows them."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    addresses.add(address)
    return addresses
